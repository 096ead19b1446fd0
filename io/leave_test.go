package io

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// initiatedCount counts the handshakes with p that r's swarm initiated.
func (r *recorder) initiatedCount(p peer.ID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, h := range r.handshakes {
		if h.Initiator && h.Remote == p {
			n++
		}
	}
	return n
}

// TestLeave: a left topic is neither looked up nor redialed.
//
//   - a and a control client c join the topic while nobody announces it;
//     a leaves; then b announces it. After Refresh and Flush, c has found
//     and handshaken b (Flush waits for a round that started after
//     Refresh, and that round finds b's record), while a has not dialed b:
//     a swarm whose Leave did nothing would have, just like c.
//   - c, having found b for the topic, leaves it and its connection to b
//     is closed: c must not redial b (a swarm that did not leave would,
//     after Backoff[0]).
func TestLeave(t *testing.T) {
	d := newDHTNet(t, 4)
	a, b, c := d.swarms[1], d.swarms[2], d.swarms[3]
	ra, rb, rc := d.recs[1], d.recs[2], d.recs[3]
	topic := randomTopic()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	for _, s := range []*Swarm{a, c} {
		if err := s.Join(topic, JoinOptions{Client: true}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(ra.snapshot()) + len(rc.snapshot()); n != 0 {
		t.Fatalf("%d handshakes before anyone announced", n)
	}
	if err := a.Leave(topic); err != nil {
		t.Fatal(err)
	}
	if got := a.Topics(); len(got) != 0 {
		t.Fatalf("Topics after Leave: %d, want 0", len(got))
	}

	if err := b.Join(topic, JoinOptions{Server: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Swarm{a, c} {
		s.Refresh()
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Control: c, still joined, has found b by the end of its Flush.
	found := false
	for _, h := range rc.snapshot() {
		found = found || h.Remote == b.ID() && h.Initiator && namesTopic(h, topic)
	}
	if !found {
		t.Fatalf("control: c did not find and handshake b by the end of Refresh and Flush: %+v", rc.snapshot())
	}
	noHandshakeAB := func(when string) {
		t.Helper()
		if n := ra.handshakesWith(b.ID()); n != 0 {
			t.Fatalf("%s: a handshook with b %d times after leaving the topic: %+v", when, n, ra.snapshot())
		}
		if n := rb.handshakesWith(a.ID()); n != 0 {
			t.Fatalf("%s: b heard %d handshakes from a after a left the topic", when, n)
		}
	}
	noHandshakeAB("after a's Refresh and Flush")

	// c leaves, then loses its connection to b: no redial.
	before := rc.initiatedCount(b.ID())
	if err := c.Leave(topic); err != nil {
		t.Fatal(err)
	}
	if err := c.Host().Network().ClosePeer(b.ID()); err != nil {
		t.Fatal(err)
	}
	// Only c's dialer would start a handshake with b (b is a server
	// only; DHT connections carry no handshake). Give a redial well over
	// Backoff[0] plus a dial and a handshake on loopback.
	time.Sleep(2 * time.Second)
	if n := rc.initiatedCount(b.ID()); n != before {
		t.Fatalf("c handshook with b again after leaving (%d → %d)", before, n)
	}
	rc.mu.Lock()
	failed := rc.dialFailed
	rc.mu.Unlock()
	if failed != 0 {
		t.Fatalf("c dialed b %d times in vain after leaving", failed)
	}
	// By now a's own schedule (rounds Backoff[0], [1], [2] apart) would
	// also have run a round since b announced, had a's loop outlived
	// Leave.
	noHandshakeAB("2 s later")
}

// TestLeaveErrors: Leave of a topic not joined and topics of the wrong
// length fail with ErrTopic.
func TestLeaveErrors(t *testing.T) {
	s := newSwarm(t, loopback(Options{DisableDHT: true}))
	topic := randomTopic()
	if err := s.Leave(topic); !errors.Is(err, ErrTopic) {
		t.Fatalf("Leave of an unknown topic: %v, want ErrTopic", err)
	}
	if err := s.Join(topic[:31], JoinOptions{}); !errors.Is(err, ErrTopic) {
		t.Fatalf("Join of 31 bytes: %v, want ErrTopic", err)
	}
	if err := s.Join(append(topic, 0), JoinOptions{}); !errors.Is(err, ErrTopic) {
		t.Fatalf("Join of 33 bytes: %v, want ErrTopic", err)
	}
	if err := s.Leave(topic[:31]); !errors.Is(err, ErrTopic) {
		t.Fatalf("Leave of 31 bytes: %v, want ErrTopic", err)
	}
	if got := s.Topics(); len(got) != 0 {
		t.Fatalf("failed Joins joined %d topics", len(got))
	}
	// Joined then left: a second Leave fails again.
	if err := s.Join(topic, JoinOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Leave(topic); err != nil {
		t.Fatal(err)
	}
	if err := s.Leave(topic); !errors.Is(err, ErrTopic) {
		t.Fatalf("second Leave: %v, want ErrTopic", err)
	}
}
