package io

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// dhtNet is a DHT of swarms on loopback: the first is the bootstrap peer,
// the others are DHT servers bootstrapped from it.
type dhtNet struct {
	swarms []*Swarm
	recs   []*recorder
}

func newDHTNet(t *testing.T, n int) *dhtNet {
	t.Helper()
	d := &dhtNet{}
	for i := 0; i < n; i++ {
		r := newRecorder()
		o := Options{Listener: r.listener(), DHTServer: true}
		if i > 0 {
			o.BootstrapPeers = []peer.AddrInfo{addrInfo(d.swarms[0])}
		}
		d.swarms = append(d.swarms, newSwarm(t, loopback(o)))
		d.recs = append(d.recs, r)
	}
	return d
}

// snapshot returns every handshake recorded by r.
func (r *recorder) snapshot() []Handshake {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Handshake(nil), r.handshakes...)
}

func namesTopic(h Handshake, topic []byte) bool {
	for _, x := range h.Topics {
		if x == [32]byte(topic) {
			return true
		}
	}
	return false
}

// TestDHTTenHosts: ten swarms form a DHT from one bootstrap peer; two of
// them (not the bootstrap) join one random topic, each as server and
// client, and find and handshake with each other through the DHT alone
// (neither is given the other's address). Nobody else is dialed for the
// topic: no handshake anywhere involves a swarm that did not join it, and
// only the two name the topic.
func TestDHTTenHosts(t *testing.T) {
	d := newDHTNet(t, 10)
	const i, j = 3, 7 // the joiners
	a, b := d.swarms[i], d.swarms[j]
	topic := randomTopic()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// a first, so that its announcement is in the DHT for b's lookup; b's
	// own announcement reaches a's next lookup in any case.
	if err := a.Join(topic, JoinOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Join(topic, JoinOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	hb := d.recs[j].waitHandshake(t, a.ID(), 30*time.Second, func(h Handshake) bool { return namesTopic(h, topic) })
	ha := d.recs[i].waitHandshake(t, b.ID(), 30*time.Second, func(h Handshake) bool { return namesTopic(h, topic) })
	if len(ha.Topics) != 1 || len(hb.Topics) != 1 {
		t.Fatalf("topics: a sees %d, b sees %d; want 1 each", len(ha.Topics), len(hb.Topics))
	}
	if !initiatedWith(d.recs[i], b.ID()) && !initiatedWith(d.recs[j], a.ID()) {
		t.Fatalf("neither joiner initiated the handshake")
	}

	// One more round each, so that anything a round might dial has been
	// dialed and answered before the checks below.
	for _, s := range []*Swarm{a, b} {
		s.Refresh()
	}
	for _, s := range []*Swarm{a, b} {
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	joined := map[peer.ID]bool{a.ID(): true, b.ID(): true}
	for k, r := range d.recs {
		for _, h := range r.snapshot() {
			self := d.swarms[k].ID()
			switch {
			case !joined[self]:
				// Only swarms that joined something dial and handshake;
				// a non-joined swarm hears a handshake only if a joiner
				// dialed it for the topic.
				t.Errorf("swarm %d (not joined) handshook with %s (initiator %v, topics %d)", k, h.Remote, h.Initiator, len(h.Topics))
			case !joined[h.Remote]:
				t.Errorf("swarm %d (joined) handshook with non-joined %s (initiator %v)", k, h.Remote, h.Initiator)
			case !namesTopic(h, topic):
				t.Errorf("swarm %d: handshake with %s does not name the topic: %+v", k, h.Remote, h)
			}
		}
	}
	// The DHT did connect the joiners to others: the checks above are not
	// vacuous for lack of connections.
	if n := len(a.Host().Network().Peers()); n < 2 {
		t.Fatalf("a is connected to %d peers; want the bootstrap and DHT peers too", n)
	}
}

func initiatedWith(r *recorder, p peer.ID) bool {
	for _, h := range r.snapshot() {
		if h.Remote == p && h.Initiator {
			return true
		}
	}
	return false
}
