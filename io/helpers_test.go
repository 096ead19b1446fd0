package io

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// recorder collects a swarm's events for tests.
type recorder struct {
	mu         sync.Mutex
	handshakes []Handshake
	failed     []error
	refused    []peer.ID
	connected  []peer.ID
	gone       []peer.ID
	dialFailed int
	ch         chan Handshake
}

func newRecorder() *recorder { return &recorder{ch: make(chan Handshake, 1024)} }

func (r *recorder) listener() *EventListener {
	return &EventListener{
		Handshaken: func(h Handshake) {
			r.mu.Lock()
			r.handshakes = append(r.handshakes, h)
			r.mu.Unlock()
			select {
			case r.ch <- h:
			default:
			}
		},
		HandshakeFailed: func(_ peer.ID, err error) { r.mu.Lock(); r.failed = append(r.failed, err); r.mu.Unlock() },
		Refused:         func(p peer.ID, _ error) { r.mu.Lock(); r.refused = append(r.refused, p); r.mu.Unlock() },
		Connected:       func(p peer.ID) { r.mu.Lock(); r.connected = append(r.connected, p); r.mu.Unlock() },
		Disconnected:    func(p peer.ID) { r.mu.Lock(); r.gone = append(r.gone, p); r.mu.Unlock() },
		DialFailed:      func(peer.ID, int, time.Duration, error) { r.mu.Lock(); r.dialFailed++; r.mu.Unlock() },
	}
}

// waitHandshake waits for a handshake with p satisfying ok.
func (r *recorder) waitHandshake(t testing.TB, p peer.ID, timeout time.Duration, ok func(Handshake) bool) Handshake {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		for _, h := range r.handshakes {
			if h.Remote == p && (ok == nil || ok(h)) {
				r.mu.Unlock()
				return h
			}
		}
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no handshake with %s within %v", p, timeout)
		}
	}
}

func (r *recorder) handshakesWith(p peer.ID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, h := range r.handshakes {
		if h.Remote == p {
			n++
		}
	}
	return n
}

// loopback returns options for a swarm on 127.0.0.1 only, no mDNS, with
// quick backoff.
func loopback(o Options) *Options {
	o.HostOptions.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	o.DisableMDNS = true
	if o.Backoff == nil {
		o.Backoff = []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second}
	}
	return &o
}

func newSwarm(t testing.TB, o *Options) *Swarm {
	t.Helper()
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func addrInfo(s *Swarm) peer.AddrInfo {
	return peer.AddrInfo{ID: s.ID(), Addrs: s.Host().Addrs()}
}

func randomTopic() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func randomKey() ed25519.PublicKey {
	k, _, _ := ed25519.GenerateKey(nil)
	return k
}
