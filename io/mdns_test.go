package io

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	manet "github.com/multiformats/go-multiaddr/net"
	"go.uber.org/goleak"
)

// mdnsProbeTimeout bounds how long the test waits to learn whether
// multicast works in its namespace at all.
const mdnsProbeTimeout = 10 * time.Second

// probeService is the probe's mDNS service name: not the swarms' own, so
// that the probe finds nothing of folio's.
const probeService = "_folio-probe._udp"

// foundNotifee reports every peer that go-libp2p's mDNS finds.
type foundNotifee chan peer.ID

func (f foundNotifee) HandlePeerFound(ai peer.AddrInfo) {
	select {
	case f <- ai.ID:
	default:
	}
}

// probeMulticast tells whether mDNS works between the hosts of a and b,
// using go-libp2p's mDNS directly (under a service name of its own) and
// nothing of this package: a failure here is the namespace's, not
// folio's.
func probeMulticast(t *testing.T, a, b *Swarm) bool {
	t.Helper()
	fa, fb := make(foundNotifee, 16), make(foundNotifee, 16)
	sa := mdns.NewMdnsService(a.Host(), probeService, fa)
	sb := mdns.NewMdnsService(b.Host(), probeService, fb)
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

// TestMDNS, inside a network namespace of its own (inNetNS): two swarms
// on 127.0.0.1 with the DHT off and the default service name find each
// other by mDNS alone, once both joined a topic as clients, and handshake
// showing the topic. Both swarms start (and so announce and browse)
// before either joins: a peer seen on the LAN before the join must still
// be dialed. Closed, they leave no goroutine behind.
func TestMDNS(t *testing.T) {
	if !inNetNS(t) {
		return
	}
	ignore := goleak.IgnoreCurrent()
	mdnsOpts := func(r *recorder) *Options {
		o := loopback(Options{DisableDHT: true, Listener: r.listener()})
		o.DisableMDNS = false
		return o
	}
	ra, rb := newRecorder(), newRecorder()
	a := newSwarm(t, mdnsOpts(ra))
	b := newSwarm(t, mdnsOpts(rb))
	if a.dht != nil || b.dht != nil {
		t.Fatal("the DHT runs")
	}
	if !probeMulticast(t, a, b) {
		t.Fatalf("go-libp2p's mDNS found nothing between two hosts within %v: multicast does not work in the namespace", mdnsProbeTimeout)
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
	withTopic := func(h Handshake) bool { return namesTopic(h, topic) }
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
	mdnsFoundOnly(t, a, b)
	mdnsFoundOnly(t, b, a)

	for _, s := range []*Swarm{a, b} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	goleak.VerifyNone(t, ignore)
}

// mdnsFoundOnly checks that s knows other from mDNS alone, and is
// connected to it over loopback.
func mdnsFoundOnly(t *testing.T, s, other *Swarm) {
	t.Helper()
	s.mu.Lock()
	r, lan := s.peers[other.ID()], s.lan[other.ID()]
	s.mu.Unlock()
	if r == nil || !r.lan || r.explicit || len(r.topics) != 0 || lan.ID != other.ID() {
		t.Fatalf("%s knows %s otherwise than by mDNS alone: %+v", s.ID(), other.ID(), r)
	}
	for _, c := range s.Host().Network().ConnsToPeer(other.ID()) {
		if !manet.IsIPLoopback(c.RemoteMultiaddr()) {
			t.Fatalf("connected to %s at %s, not over loopback", other.ID(), c.RemoteMultiaddr())
		}
	}
}
