package io

import (
	"crypto/ed25519"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// TestMaxPeersConcurrent: peers handshaking with a full-but-one swarm at
// the same moment cannot overshoot MaxPeers; the rest are refused.
func TestMaxPeersConcurrent(t *testing.T) {
	const callers, maxPeers = 6, 2
	// b's Offer holds every admitted handshake until each caller is either
	// in Offer or refused, so that the refusals happen while the admitted
	// handshakes are under way.
	var seen atomic.Int32
	released := make(chan struct{})
	arrive := func() {
		if seen.Add(1) == callers {
			close(released)
		}
	}
	hold := func() {
		select {
		case <-released:
		case <-time.After(hsWaitTime): // a bug elsewhere; the counts below fail
		}
	}
	b := newSwarm(t, loopback(Options{
		DisableDHT: true,
		MaxPeers:   maxPeers,
		Offer:      func(peer.ID) []ed25519.PublicKey { arrive(); hold(); return nil },
		Listener:   &EventListener{Refused: func(peer.ID, error) { arrive() }},
	}))
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
	if ok != maxPeers || refused != callers-maxPeers {
		t.Fatalf("%d handshakes accepted and %d refused, want %d and %d", ok, refused, maxPeers, callers-maxPeers)
	}
	if n := len(b.Peers()); n != maxPeers {
		t.Fatalf("b lists %d handshaken peers, want %d", n, maxPeers)
	}
}

// TestResponderListsBeforeAnswer: once the initiator has the responder's
// answer, the responder already lists it among its Peers (and counts it
// against MaxPeers). b's host holds the close of every handshake stream it
// answers until the test has looked, so the answer is out but b's handler
// has not returned.
func TestResponderListsBeforeAnswer(t *testing.T) {
	looked := make(chan struct{})
	b, eb := hsSwarm(t, Options{Host: streamsHost{hsRawHost(t), func(st network.Stream) network.Stream {
		return holdCloseStream{st, looked}
	}}})
	a, _ := hsSwarm(t, Options{})
	hsKnow(a, b)
	if _, err := a.Handshake(hsCtx(t), b.ID()); err != nil {
		t.Fatal(err)
	}
	listed := b.Peers()
	close(looked)
	if len(listed) != 1 || listed[0].Remote != a.ID() {
		t.Fatalf("b lists %+v once a has b's answer, want a", listed)
	}
	// The event comes once the answer is sent.
	hsWait(t, "Handshaken event on b", func() bool { return len(eb.with(a.ID())) == 1 })
}

// TestResponderAnswerFails: a handshake whose answer cannot be sent is
// taken back on the responder: the handshake before it stands, unchanged,
// and no Handshaken event is told.
func TestResponderAnswerFails(t *testing.T) {
	var refuse atomic.Bool
	b, eb := hsSwarm(t, Options{Host: streamsHost{hsRawHost(t), func(st network.Stream) network.Stream {
		return refuseWriteStream{st, &refuse}
	}}})
	a, _ := hsSwarm(t, Options{})
	hsKnow(a, b)
	ctx := hsCtx(t)
	if _, err := a.Handshake(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
	hsWait(t, "Handshaken event on b", func() bool { return len(eb.with(a.ID())) == 1 })
	refuse.Store(true)
	if _, err := a.Introduce(ctx, b.ID(), Introduction{Key: randomKey()}); err == nil {
		t.Fatal("Introduce succeeded though b could not answer")
	}
	hsWait(t, "HandshakeFailed on b", func() bool { return len(eb.failures(a.ID())) == 1 })
	listed := b.Peers()
	if len(listed) != 1 || listed[0].Remote != a.ID() || len(listed[0].Introduced) != 0 {
		t.Fatalf("b lists %+v, want a with its first handshake (no introduction)", listed)
	}
	if n := len(eb.with(a.ID())); n != 1 {
		t.Fatalf("b told %d Handshaken events, want 1", n)
	}
}

// streamsHost hands its stream handlers the streams wrap makes.
type streamsHost struct {
	host.Host
	wrap func(network.Stream) network.Stream
}

func (h streamsHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	h.Host.SetStreamHandler(pid, func(st network.Stream) { handler(h.wrap(st)) })
}

// holdCloseStream's Close waits for release (or a test's worth of time).
type holdCloseStream struct {
	network.Stream
	release <-chan struct{}
}

func (s holdCloseStream) Close() error {
	select {
	case <-s.release:
	case <-time.After(hsWaitTime):
	}
	return s.Stream.Close()
}

// refuseWriteStream fails every write while refuse is set.
type refuseWriteStream struct {
	network.Stream
	refuse *atomic.Bool
}

func (s refuseWriteStream) Write(p []byte) (int, error) {
	if s.refuse.Load() {
		return 0, errors.New("test: write refused")
	}
	return s.Stream.Write(p)
}
