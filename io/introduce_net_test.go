package io

import (
	"crypto/ed25519"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Introductions on a connection already handshaken (IntroduceProtocol),
// between real swarms on loopback.

// introPair is two swarms that share books and have handshaken; offers
// counts the calls of each one's Offer (one per Hello it builds).
type introPair struct {
	a, b   *Swarm
	ea, eb *hsEvents
	offers [2]atomic.Int64
	shared []ed25519.PublicKey
}

func newIntroPair(t *testing.T, books int, accept func(peer.ID, Introduction) error) *introPair {
	t.Helper()
	ip := &introPair{}
	for range books {
		ip.shared = append(ip.shared, randomKey())
	}
	offer := func(n int) func(peer.ID) []ed25519.PublicKey {
		return func(peer.ID) []ed25519.PublicKey { ip.offers[n].Add(1); return ip.shared }
	}
	ip.a, ip.ea = hsSwarm(t, Options{Offer: offer(0)})
	ip.b, ip.eb = hsSwarm(t, Options{Offer: offer(1), Accept: accept})
	if err := ip.a.JoinPeer(addrInfo(ip.b)); err != nil {
		t.Fatal(err)
	}
	hsWait(t, "the first handshake", func() bool { return len(ip.ea.with(ip.b.ID())) > 0 && len(ip.eb.with(ip.a.ID())) > 0 })
	return ip
}

func TestIntroduceOnHandshakenConnectionSendsNoBooks(t *testing.T) {
	ip := newIntroPair(t, 50, nil)
	a, b := ip.a, ip.b
	before := [2]int64{ip.offers[0].Load(), ip.offers[1].Load()}
	k, meta := randomKey(), []byte("task 2")
	h, err := a.Introduce(hsCtx(t), b.ID(), Introduction{Key: k, Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	if !h.Brief || len(h.Shared) != 0 || len(h.Topics) != 0 || len(h.Rejected) != 0 {
		t.Fatalf("A's result: brief %v, %d shared, %d topics, %d rejected; want brief, nothing restated", h.Brief, len(h.Shared), len(h.Topics), len(h.Rejected))
	}
	hsWait(t, "the introduction at B", func() bool { return hsHasIntro(ip.eb.with(a.ID()), k) })
	for _, h := range ip.eb.with(a.ID()) {
		if hsHasIntro([]Handshake{h}, k) && (!h.Brief || len(h.Shared) != 0) {
			t.Fatalf("B's report: brief %v, %d shared", h.Brief, len(h.Shared))
		}
	}
	// Neither side built a Hello of books for it.
	if after := [2]int64{ip.offers[0].Load(), ip.offers[1].Load()}; after != before {
		t.Fatalf("Offer called %v times before the introduction, %v after: the books were offered again", before, after)
	}
	// The connection's handshake still stands, with every shared book.
	for _, s := range []*Swarm{a, b} {
		ps := s.Peers()
		if len(ps) != 1 || len(ps[0].Shared) != len(ip.shared) || ps[0].Brief {
			t.Fatalf("%s's peers after the introduction: %+v", s.ID(), ps)
		}
	}
}

func TestIntroduceOnHandshakenConnectionRejects(t *testing.T) {
	errNo := errors.New("not a member")
	ip := newIntroPair(t, 3, func(peer.ID, Introduction) error { return errNo })
	k := randomKey()
	h, err := ip.a.Introduce(hsCtx(t), ip.b.ID(), Introduction{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	if !h.Brief || len(h.Rejected) != 1 || !h.Rejected[0].Key.Equal(k) || h.Rejected[0].Reason != errNo.Error() {
		t.Fatalf("result %+v, want the introduction rejected with %q", h, errNo)
	}
	if hsHasIntro(ip.eb.all(), k) {
		t.Fatal("B reported a rejected introduction")
	}
}

// An older peer does not speak IntroduceProtocol: the introduction goes
// in a full handshake, as before.
func TestIntroduceToOlderPeerHandshakes(t *testing.T) {
	b, eb := hsSwarm(t, Options{Offer: offerOf(randomKey())})
	b.Host().RemoveStreamHandler(IntroduceProtocol)
	a, ea := hsSwarm(t, Options{})
	if err := a.JoinPeer(addrInfo(b)); err != nil {
		t.Fatal(err)
	}
	hsWait(t, "the first handshake", func() bool { return len(ea.with(b.ID())) > 0 && len(eb.with(a.ID())) > 0 })
	k := randomKey()
	h, err := a.Introduce(hsCtx(t), b.ID(), Introduction{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	if h.Brief {
		t.Fatal("a brief introduction to a peer without IntroduceProtocol")
	}
	hsWait(t, "the introduction at B", func() bool { return hsHasIntro(eb.with(a.ID()), k) })
}

// The peerstore may still list IntroduceProtocol for a peer that no
// longer speaks it (restarted as an older version): the attempt fails
// as not supported, nothing reaches the remote, and Introduce handshakes.
func TestIntroduceStaleProtocolListFallsBack(t *testing.T) {
	ip := newIntroPair(t, 2, nil)
	a, b := ip.a, ip.b
	b.Host().RemoveStreamHandler(IntroduceProtocol)
	// identify may push the change to A at any time: list it again
	// right before each attempt.
	relist := func() {
		if err := a.Host().Peerstore().AddProtocols(b.ID(), IntroduceProtocol); err != nil {
			t.Fatal(err)
		}
	}
	relist()
	k := randomKey()
	_, err := a.introduce(hsCtx(t), b.ID(), []Introduction{{Key: k}})
	if !notSpoken(err) {
		t.Fatalf("introduce to a peer without the protocol: %v, want a refusal in the negotiation", err)
	}
	if hsHasIntro(ip.eb.all(), k) {
		t.Fatal("B got an introduction on a protocol it does not speak")
	}
	relist()
	h, err := a.Introduce(hsCtx(t), b.ID(), Introduction{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	if h.Brief {
		t.Fatal("the fallback was brief")
	}
	hsWait(t, "the introduction at B", func() bool { return hsHasIntro(ip.eb.with(a.ID()), k) })
}
