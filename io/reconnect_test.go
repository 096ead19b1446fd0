package io

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// loopbackTCPPort returns the TCP port s listens on at 127.0.0.1.
func loopbackTCPPort(t *testing.T, s *Swarm) string {
	t.Helper()
	for _, a := range s.Host().Network().ListenAddresses() {
		ip, err := a.ValueForProtocol(ma.P_IP4)
		if err != nil || ip != "127.0.0.1" {
			continue
		}
		if port, err := a.ValueForProtocol(ma.P_TCP); err == nil {
			return port
		}
	}
	t.Fatalf("no 127.0.0.1 TCP listen address in %v", s.Host().Network().ListenAddresses())
	return ""
}

// pollUntil polls cond until it holds or timeout passes.
func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReconnectAfterRestart: a wants b explicitly (JoinPeer). b is killed;
// a notices the disconnection and its redials fail; b comes back with the
// same identity on the same port; a's backoff reaches it and the handshake
// is redone, on both sides.
func TestReconnectAfterRestart(t *testing.T) {
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := newRecorder(), newRecorder()
	a := newSwarm(t, loopback(Options{
		DisableDHT: true,
		Listener:   ra.listener(),
		Backoff:    []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
	}))
	bOpts := loopback(Options{DisableDHT: true, Listener: rb.listener()})
	bOpts.HostOptions.PrivateKey = key
	b := newSwarm(t, bOpts)
	bID := b.ID()
	port := loopbackTCPPort(t, b)

	if err := a.JoinPeer(addrInfo(b)); err != nil {
		t.Fatal(err)
	}
	ra.waitHandshake(t, bID, 30*time.Second, func(h Handshake) bool { return h.Initiator })
	rb.waitHandshake(t, a.ID(), 30*time.Second, nil)
	if n := ra.handshakesWith(bID); n != 1 {
		t.Fatalf("a handshook with b %d times before the restart, want 1", n)
	}
	ra.mu.Lock()
	failedBefore := ra.dialFailed
	ra.mu.Unlock()
	if failedBefore != 0 {
		t.Fatalf("%d failed dials before b was killed", failedBefore)
	}

	// Kill b; a sees the connection go and fails to redial.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, 30*time.Second, "a sees b disconnected", func() bool {
		ra.mu.Lock()
		defer ra.mu.Unlock()
		for _, p := range ra.gone {
			if p == bID {
				return true
			}
		}
		return false
	})
	pollUntil(t, 30*time.Second, "a's redial of b fails", func() bool {
		ra.mu.Lock()
		defer ra.mu.Unlock()
		return ra.dialFailed > 0
	})

	// b again: same key, same port.
	rb2 := newRecorder()
	b2Opts := loopback(Options{DisableDHT: true, Listener: rb2.listener()})
	b2Opts.HostOptions.PrivateKey = key
	b2Opts.HostOptions.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/" + port}
	var b2 *Swarm
	// The port may take a moment to be free for listening again.
	pollUntil(t, 30*time.Second, "restart b on port "+port, func() bool {
		s, err := New(context.Background(), b2Opts)
		if err != nil {
			t.Logf("restart: %v", err)
			return false
		}
		b2 = s
		return true
	})
	t.Cleanup(func() { b2.Close() })
	if b2.ID() != bID {
		t.Fatalf("restarted b has ID %s, want %s", b2.ID(), bID)
	}

	// a was never told anything new: its backoff redials b's old address.
	pollUntil(t, 30*time.Second, "a's redial handshakes with b", func() bool { return ra.initiatedCount(bID) >= 2 })
	rb2.waitHandshake(t, a.ID(), 30*time.Second, func(h Handshake) bool { return !h.Initiator })
	found := false
	for _, p := range a.Peers() {
		found = found || p.Remote == bID
	}
	if !found {
		t.Fatalf("a's Peers() lacks b after the restart")
	}
}

// TestRedialDropRightAfterHandshake: a wanted peer whose connection drops
// while its dialer is still finishing the handshake that succeeded is
// redialed all the same. a's Handshaken listener, which runs on the
// dialer, drops the connection the first time and waits until a has seen
// it go.
func TestRedialDropRightAfterHandshake(t *testing.T) {
	b := newSwarm(t, loopback(Options{DisableDHT: true}))
	gone := make(chan struct{}, 1)
	var once sync.Once
	ra := newRecorder()
	l := ra.listener()
	handshaken := l.Handshaken
	var a *Swarm
	l.Handshaken = func(h Handshake) {
		handshaken(h)
		once.Do(func() {
			_ = a.Host().Network().ClosePeer(h.Remote)
			select {
			case <-gone:
			case <-time.After(hsWaitTime):
				t.Errorf("a did not see b go within %v", hsWaitTime)
			}
		})
	}
	l.Disconnected = func(peer.ID) {
		select {
		case gone <- struct{}{}:
		default:
		}
	}
	a = newSwarm(t, loopback(Options{DisableDHT: true, Listener: l}))
	if err := a.JoinPeer(addrInfo(b)); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, hsWaitTime, "a's second handshake with b", func() bool { return ra.initiatedCount(b.ID()) >= 2 })
}
