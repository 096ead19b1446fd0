package io

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"go.uber.org/goleak"
)

// TestCloseNoLeak: swarms that ran the DHT, joined topics, found each
// other, handshook and kept explicit peers leave no goroutine behind once
// closed.
func TestCloseNoLeak(t *testing.T) {
	// Goroutines of earlier tests, and package-level ones started at init,
	// are not this test's business.
	ignore := goleak.IgnoreCurrent()

	open := func(o *Options) *Swarm {
		t.Helper()
		s, err := New(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	boot := open(loopback(Options{}))
	var swarms []*Swarm
	var recs []*recorder
	for i := 0; i < 3; i++ {
		r := newRecorder()
		recs = append(recs, r)
		swarms = append(swarms, open(loopback(Options{
			BootstrapPeers: []peer.AddrInfo{addrInfo(boot)},
			DHTServer:      true,
			Listener:       r.listener(),
			Offer:          offerOf(randomKey()),
		})))
	}
	a, b, c := swarms[0], swarms[1], swarms[2]
	topic := randomTopic()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, s := range []*Swarm{a, b} {
		if err := s.Join(topic, JoinOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	recs[1].waitHandshake(t, a.ID(), 30*time.Second, func(h Handshake) bool { return namesTopic(h, topic) })
	// A second topic nobody else joined keeps a discovery loop running
	// (and waiting) at Close.
	if err := c.Join(randomTopic(), JoinOptions{Client: true}); err != nil {
		t.Fatal(err)
	}
	// An explicit peer, and a handshake with introductions.
	if err := c.JoinPeer(addrInfo(a)); err != nil {
		t.Fatal(err)
	}
	recs[2].waitHandshake(t, a.ID(), 30*time.Second, nil)
	if _, err := c.Introduce(ctx, a.ID(), Introduction{Key: randomKey(), Token: []byte("t")}); err != nil {
		t.Fatal(err)
	}
	// An explicit peer that is never reachable keeps a dialer in its
	// backoff at Close.
	dead := open(loopback(Options{DisableDHT: true}))
	deadInfo := addrInfo(dead)
	if err := dead.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.JoinPeer(deadInfo); err != nil {
		t.Fatal(err)
	}

	// mDNS is left out here: it multicasts, which tests do only inside a
	// network namespace of their own; TestMDNS checks its leaks there.

	// Close while rounds, dialers and DHT queries may still run.
	for _, s := range append(swarms, boot) {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}

	// Closed swarms refuse work.
	p := b.ID()
	if err := a.Join(randomTopic(), JoinOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Close: %v, want ErrClosed", err)
	}
	if err := a.JoinPeer(peer.AddrInfo{ID: p}); !errors.Is(err, ErrClosed) {
		t.Errorf("JoinPeer after Close: %v, want ErrClosed", err)
	}
	if _, err := a.Handshake(ctx, p); !errors.Is(err, ErrClosed) {
		t.Errorf("Handshake after Close: %v, want ErrClosed", err)
	}
	if err := a.Flush(ctx); !errors.Is(err, ErrClosed) && err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	goleak.VerifyNone(t, ignore)
}
