package io

import (
	"crypto/ed25519"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestMaxPeersConcurrent: peers handshaking with a full-but-one swarm at
// the same moment cannot overshoot MaxPeers; the rest are refused.
func TestMaxPeersConcurrent(t *testing.T) {
	const callers = 6
	// b's Offer holds every admitted handshake until all callers are in
	// (or a second has passed), so that they are all under way at once.
	var arrived sync.WaitGroup
	arrived.Add(callers)
	released := make(chan struct{})
	var calls atomic.Int32
	go func() { arrived.Wait(); close(released) }()
	b, _ := hsSwarm(t, Options{MaxPeers: 2, Offer: func(peer.ID) []ed25519.PublicKey {
		if calls.Add(1) <= callers {
			arrived.Done()
		}
		select {
		case <-released:
		case <-time.After(time.Second):
		}
		return nil
	}})
	var others []*Swarm
	for i := 0; i < callers; i++ {
		a, _ := hsSwarm(t, Options{})
		hsKnow(a, b)
		others = append(others, a)
	}
	ctx := hsCtx(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for _, a := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Handshake(ctx, b.ID())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrRefused):
				refused++
			default:
				t.Errorf("handshake: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 2 || refused != callers-2 {
		t.Fatalf("%d handshakes accepted and %d refused, want 2 and %d", ok, refused, callers-2)
	}
	if n := len(b.Peers()); n != 2 {
		t.Fatalf("b lists %d handshaken peers, want 2", n)
	}
}
