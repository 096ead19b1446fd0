package io

import (
	"context"
	"crypto/ed25519"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Two real hosts on loopback whose security transports differ still
// connect and handshake: the connection uses the dialer's first choice
// that the listener speaks. "older" is folio before HostOptions.Security
// (go-libp2p's default, the same as DefaultSecurity); "noiseFirst" a peer
// that prefers Noise.
func TestSecurityBetweenHostsConfiguredDifferently(t *testing.T) {
	older := []protocol.ID{SecurityTLS, SecurityNoise}
	noiseFirst := []protocol.ID{SecurityNoise, SecurityTLS}
	tlsOnly := []protocol.ID{SecurityTLS}
	noiseOnly := []protocol.ID{SecurityNoise}
	for _, c := range []struct {
		name             string
		dialer, listener []protocol.ID
		want             protocol.ID
	}{
		{"default to default", nil, nil, SecurityTLS},
		{"default to older", nil, older, SecurityTLS},
		{"older to default", older, nil, SecurityTLS},
		{"Noise first to default", noiseFirst, nil, SecurityNoise},
		{"default to Noise first", nil, noiseFirst, SecurityTLS},
		{"default to TLS only", nil, tlsOnly, SecurityTLS},
		{"TLS only to default", tlsOnly, nil, SecurityTLS},
		{"Noise only to older", noiseOnly, older, SecurityNoise},
	} {
		t.Run(c.name, func(t *testing.T) {
			book := randomKey()
			offer := func(peer.ID) []ed25519.PublicKey { return []ed25519.PublicKey{book} }
			d, ed := hsSwarm(t, Options{Offer: offer, HostOptions: HostOptions{Security: c.dialer}})
			l, el := hsSwarm(t, Options{Offer: offer, HostOptions: HostOptions{Security: c.listener}})
			if err := d.JoinPeer(addrInfo(l)); err != nil {
				t.Fatal(err)
			}
			hsWait(t, "a handshake sharing the book", func() bool {
				return len(ed.with(l.ID())) > 0 && len(el.with(d.ID())) > 0
			})
			for _, h := range append(ed.with(l.ID()), el.with(d.ID())...) {
				if len(h.Shared) != 1 || !h.Shared[0].Key.Equal(book) {
					t.Fatalf("handshake shares %d books, want the one book", len(h.Shared))
				}
			}
			for _, s := range []*Swarm{d, l} {
				other := l.ID()
				if s == l {
					other = d.ID()
				}
				conns := s.Host().Network().ConnsToPeer(other)
				if len(conns) != 1 {
					t.Fatalf("%d connections, want 1", len(conns))
				}
				if got := conns[0].ConnState().Security; got != c.want {
					t.Fatalf("connection secured by %q, want %q", got, c.want)
				}
			}
		})
	}
}

// With no transport in common there is no connection, and the dial says so.
func TestSecurityNothingInCommonRefused(t *testing.T) {
	d, _ := hsSwarm(t, Options{HostOptions: HostOptions{Security: []protocol.ID{SecurityNoise}}})
	l, _ := hsSwarm(t, Options{HostOptions: HostOptions{Security: []protocol.ID{SecurityTLS}}})
	err := d.Host().Connect(hsCtx(t), addrInfo(l))
	if err == nil {
		t.Fatal("a Noise-only host connected to a TLS-only one")
	}
	if n := len(l.Host().Network().ConnsToPeer(d.ID())); n != 0 {
		t.Fatalf("the listener holds %d connections", n)
	}
}

func TestSecurityBadOptions(t *testing.T) {
	for _, ids := range [][]protocol.ID{{}, {"/secio/1.0.0"}, {SecurityTLS, SecurityTLS}} {
		s, err := New(context.Background(), loopback(Options{DisableDHT: true, HostOptions: HostOptions{Security: ids}}))
		if !errors.Is(err, ErrSecurity) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("Security %q: err %v, want ErrSecurity", ids, err)
		}
	}
}

// BenchmarkConnectSecurity: one iteration is one new TCP connection on
// loopback between two hosts built as a Swarm builds them (security
// handshake, muxer, identify), then its close. cpu-ns/op is the process's
// CPU (both sides) per connection: the machine's load does not inflate it
// as it does ns/op.
func BenchmarkConnectSecurity(b *testing.B) {
	for _, ids := range [][]protocol.ID{{SecurityNoise}, {SecurityTLS}} {
		b.Run(string(ids[0]), func(b *testing.B) {
			ho := HostOptions{ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Security: ids, DisableRelay: true}
			allow := func(peer.ID) bool { return true }
			var hs [2]interface {
				Close() error
			}
			d, err := newHost(ho, 8, allow, func(peer.ID) {})
			if err != nil {
				b.Fatal(err)
			}
			l, err := newHost(ho, 8, allow, func(peer.ID) {})
			if err != nil {
				b.Fatal(err)
			}
			hs[0], hs[1] = d, l
			defer func() {
				for _, h := range hs {
					h.Close()
				}
			}()
			info := peer.AddrInfo{ID: l.ID(), Addrs: l.Addrs()}
			ctx := context.Background()
			cpu0 := benchCPU()
			for b.Loop() {
				if err := d.Connect(ctx, info); err != nil {
					b.Fatal(err)
				}
				if err := d.Network().ClosePeer(l.ID()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// benchCPU is the process's user plus system CPU time so far.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
