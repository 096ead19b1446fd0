package io

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// mdnsProbeTimeout bounds how long the test waits to learn whether
// multicast works on this machine at all.
const mdnsProbeTimeout = 10 * time.Second

// randomMDNSService returns a service name of its own, so that parallel
// runs on one LAN (or one machine) never see each other.
func randomMDNSService() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "_f" + hex.EncodeToString(b) + "._udp"
}

// foundNotifee reports every peer that go-libp2p's mDNS finds.
type foundNotifee chan peer.ID

func (f foundNotifee) HandlePeerFound(ai peer.AddrInfo) {
	select {
	case f <- ai.ID:
	default:
	}
}

// probeMulticast tells whether mDNS works between the hosts of a and b on
// this machine, using go-libp2p's mDNS directly (under a service name of
// its own) and nothing of this package: a failure here is the machine's,
// not folio's.
func probeMulticast(t *testing.T, a, b *Swarm) bool {
	t.Helper()
	name := randomMDNSService()
	fa, fb := make(foundNotifee, 16), make(foundNotifee, 16)
	sa := mdns.NewMdnsService(a.Host(), name, fa)
	sb := mdns.NewMdnsService(b.Host(), name, fb)
	if err := sa.Start(); err != nil {
		t.Logf("mDNS probe: start: %v", err)
		return false
	}
	defer sa.Close()
	if err := sb.Start(); err != nil {
		t.Logf("mDNS probe: start: %v", err)
		return false
	}
	defer sb.Close()
	deadline := time.After(mdnsProbeTimeout)
	sawA, sawB := false, false
	for !sawA || !sawB {
		select {
		case p := <-fa:
			sawB = sawB || p == b.ID()
		case p := <-fb:
			sawA = sawA || p == a.ID()
		case <-deadline:
			t.Logf("mDNS probe: a saw b %v, b saw a %v after %v", sawB, sawA, mdnsProbeTimeout)
			return false
		}
	}
	return true
}

// TestMDNS: two swarms with the DHT off find each other on the LAN by
// mDNS alone, once both joined a topic as clients, and handshake showing
// the topic. Both swarms start (and so announce and browse) before either
// joins: a peer seen on the LAN before the join must still be dialed.
func TestMDNS(t *testing.T) {
	service := randomMDNSService()
	mdnsOpts := func(r *recorder) *Options {
		o := loopback(Options{DisableDHT: true, Listener: r.listener(), MDNSService: service})
		o.DisableMDNS = false
		return o
	}
	ra, rb := newRecorder(), newRecorder()
	a := newSwarm(t, mdnsOpts(ra))
	b := newSwarm(t, mdnsOpts(rb))

	if !probeMulticast(t, a, b) {
		t.Skipf("mDNS/multicast does not work on this machine: go-libp2p's mDNS found nothing between two local hosts within %v", mdnsProbeTimeout)
	}

	topic := randomTopic()
	if err := a.Join(topic, JoinOptions{Client: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.Join(topic, JoinOptions{Client: true}); err != nil {
		t.Fatal(err)
	}
	// Neither was given the other's address: only mDNS can bring them
	// together.
	withTopic := func(h Handshake) bool { return len(h.Topics) == 1 && h.Topics[0] == [32]byte(topic) }
	ha := ra.waitHandshake(t, b.ID(), 30*time.Second, withTopic)
	hb := rb.waitHandshake(t, a.ID(), 30*time.Second, withTopic)
	t.Logf("a: %+v; b: %+v", ha, hb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range a.Peers() {
		found = found || h.Remote == b.ID() && withTopic(h)
	}
	if !found {
		t.Fatalf("a's Peers() does not list b with the topic: %+v", a.Peers())
	}
}
