package io

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	stdio "io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio/pbio"

	"github.com/folio-p2p/folio/io/pb"
)

// The handshake between real swarms on loopback (no DHT, no mDNS), and
// against a plain libp2p host that speaks the protocol badly.

// hsWaitTime bounds every wait: generous, as the machine is shared.
const hsWaitTime = 20 * time.Second

type hsPeerErr struct {
	p   peer.ID
	err error
}

// hsEvents records every event of a swarm, with the peer and the error.
type hsEvents struct {
	mu         sync.Mutex
	handshaken []Handshake
	failed     []hsPeerErr
	refused    []hsPeerErr
	dialFailed []hsPeerErr
}

func (e *hsEvents) listener() *EventListener {
	add := func(to *[]hsPeerErr, p peer.ID, err error) {
		e.mu.Lock()
		*to = append(*to, hsPeerErr{p, err})
		e.mu.Unlock()
	}
	return &EventListener{
		Handshaken: func(h Handshake) {
			e.mu.Lock()
			e.handshaken = append(e.handshaken, h)
			e.mu.Unlock()
		},
		HandshakeFailed: func(p peer.ID, err error) { add(&e.failed, p, err) },
		Refused:         func(p peer.ID, err error) { add(&e.refused, p, err) },
		DialFailed: func(p peer.ID, _ int, _ time.Duration, err error) {
			add(&e.dialFailed, p, err)
		},
	}
}

// with returns the handshakes with p, oldest first.
func (e *hsEvents) with(p peer.ID) []Handshake {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Handshake
	for _, h := range e.handshaken {
		if h.Remote == p {
			out = append(out, h)
		}
	}
	return out
}

func (e *hsEvents) all() []Handshake {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.handshaken)
}

func (e *hsEvents) failures(p peer.ID) []error   { return e.errs(&e.failed, p) }
func (e *hsEvents) refusals(p peer.ID) []error   { return e.errs(&e.refused, p) }
func (e *hsEvents) dialErrors(p peer.ID) []error { return e.errs(&e.dialFailed, p) }

func (e *hsEvents) errs(from *[]hsPeerErr, p peer.ID) []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []error
	for _, x := range *from {
		if x.p == p {
			out = append(out, x.err)
		}
	}
	return out
}

// hsWait polls cond until it holds, failing the test after hsWaitTime.
func hsWait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hsWaitTime)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, hsWaitTime)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hsSwarm starts a loopback swarm without DHT whose events go to a new
// hsEvents.
func hsSwarm(t testing.TB, o Options) (*Swarm, *hsEvents) {
	t.Helper()
	e := &hsEvents{}
	o.DisableDHT = true
	o.Listener = e.listener()
	return newSwarm(t, loopback(o)), e
}

func hsCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hsWaitTime)
	t.Cleanup(cancel)
	return ctx
}

// hsKnow tells s where other listens, without connecting.
func hsKnow(s, other *Swarm) {
	s.Host().Peerstore().AddAddrs(other.ID(), other.Host().Addrs(), time.Hour)
}

// hsRawHost is a plain libp2p host on loopback, without a Swarm.
func hsRawHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// hsRawStream opens a handshake stream from raw to s.
func hsRawStream(t testing.TB, raw host.Host, s *Swarm) network.Stream {
	t.Helper()
	ctx := hsCtx(t)
	if err := raw.Connect(ctx, addrInfo(s)); err != nil {
		t.Fatal(err)
	}
	st, err := raw.NewStream(ctx, s.ID(), HandshakeProtocol)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Reset() })
	return st
}

func hsHasIntro(hs []Handshake, k ed25519.PublicKey) bool {
	for _, h := range hs {
		for _, in := range h.Introduced {
			if in.Key.Equal(k) {
				return true
			}
		}
	}
	return false
}

func TestHandshakeNetSharedBooks(t *testing.T) {
	k1, k2, k3 := randomKey(), randomKey(), randomKey()
	t1, t2, t3 := randomTopic(), randomTopic(), randomTopic()
	b, eb := hsSwarm(t, Options{Offer: offerOf(k1, k2, k3)})
	c, ec := hsSwarm(t, Options{Offer: offerOf(k1, k2)})
	// A offers k2 to B only.
	a, ea := hsSwarm(t, Options{Offer: func(p peer.ID) []ed25519.PublicKey {
		if p == b.ID() {
			return []ed25519.PublicKey{k1, k2}
		}
		return []ed25519.PublicKey{k1}
	}})
	for _, j := range []struct {
		s  *Swarm
		ts [][]byte
	}{{a, [][]byte{t1, t2}}, {b, [][]byte{t2, t3}}, {c, [][]byte{t1}}} {
		for _, tp := range j.ts {
			if err := j.s.Join(tp, JoinOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range []*Swarm{b, c} {
		if err := a.JoinPeer(addrInfo(s)); err != nil {
			t.Fatal(err)
		}
	}
	hsWait(t, "handshakes", func() bool {
		return len(ea.with(b.ID())) > 0 && len(ea.with(c.ID())) > 0 && len(eb.with(a.ID())) > 0 && len(ec.with(a.ID())) > 0
	})
	check := func(name string, h Handshake, initiator bool, topic []byte, keys ...ed25519.PublicKey) {
		t.Helper()
		if h.Initiator != initiator {
			t.Errorf("%s: initiator %v", name, h.Initiator)
		}
		hsSameKeys(t, name, hsSharedKeys(h), hsSortedByDK(keys...))
		if len(h.Topics) != 1 || string(h.Topics[0][:]) != string(topic) {
			t.Errorf("%s: topics %x, want [%x]", name, h.Topics, topic)
		}
		if len(h.Introduced) != 0 {
			t.Errorf("%s: %d introductions from nowhere", name, len(h.Introduced))
		}
	}
	check("A with B", ea.with(b.ID())[0], true, t2, k1, k2)
	check("B with A", eb.with(a.ID())[0], false, t2, k1, k2)
	check("A with C", ea.with(c.ID())[0], true, t1, k1)
	check("C with A", ec.with(a.ID())[0], false, t1, k1)

	// Handshake direct gives the same as the event.
	h, err := a.Handshake(hsCtx(t), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	check("A with B again", h, true, t2, k1, k2)
	if n := len(a.Peers()); n != 2 {
		t.Fatalf("A has %d handshaken peers, want 2", n)
	}
}

func TestHandshakeNetIntroductionReachesOnlyItsPeer(t *testing.T) {
	b, eb := hsSwarm(t, Options{})
	c, ec := hsSwarm(t, Options{})
	a, ea := hsSwarm(t, Options{})
	for _, s := range []*Swarm{b, c} {
		if err := a.JoinPeer(addrInfo(s)); err != nil {
			t.Fatal(err)
		}
	}
	hsWait(t, "handshakes", func() bool { return len(eb.with(a.ID())) > 0 && len(ec.with(a.ID())) > 0 })

	k, token, meta := randomKey(), []byte("invite proof"), []byte("task: paint the fence")
	ctx := hsCtx(t)
	if _, err := a.Introduce(ctx, b.ID(), Introduction{Key: k, Token: token, Meta: meta}); err != nil {
		t.Fatal(err)
	}
	hsWait(t, "introduction at B", func() bool { return hsHasIntro(eb.with(a.ID()), k) })
	for _, h := range eb.with(a.ID()) {
		if len(h.Introduced) == 0 {
			continue
		}
		hsSameIntros(t, "at B", h.Introduced, []Introduction{{Key: k, Token: token, Meta: meta}})
		if h.Initiator {
			t.Fatal("B was introduced to as the initiator")
		}
	}
	// Later handshakes, with C and with B, do not carry it.
	nb, nc := len(eb.with(a.ID())), len(ec.with(a.ID()))
	for _, s := range []*Swarm{c, b} {
		if _, err := a.Handshake(ctx, s.ID()); err != nil {
			t.Fatal(err)
		}
	}
	hsWait(t, "later handshakes", func() bool { return len(eb.with(a.ID())) > nb && len(ec.with(a.ID())) > nc })
	if last := eb.with(a.ID())[nb]; len(last.Introduced) != 0 {
		t.Fatalf("the introduction was repeated: %+v", last.Introduced)
	}
	if hsHasIntro(ec.all(), k) {
		t.Fatal("C saw the introduction meant for B")
	}
	if hsHasIntro(ea.all(), k) {
		t.Fatal("A saw its own introduction come back")
	}
}

func TestHandshakeNetAcceptDropsBadToken(t *testing.T) {
	var mu sync.Mutex
	var asked int
	var aID peer.ID
	b, eb := hsSwarm(t, Options{Accept: func(p peer.ID, in Introduction) error {
		mu.Lock()
		defer mu.Unlock()
		asked++
		if p == aID && string(in.Token) == "good" {
			return nil
		}
		return errors.New("bad token")
	}})
	a, _ := hsSwarm(t, Options{})
	mu.Lock()
	aID = a.ID()
	mu.Unlock()
	hsKnow(a, b)
	good, bad, none := randomKey(), randomKey(), randomKey()
	ctx := hsCtx(t)

	// A malformed introduction is refused locally and sends nothing.
	if _, err := a.Introduce(ctx, b.ID(), Introduction{Key: good[:31]}); err == nil {
		t.Fatal("a 31-byte key was sent")
	}
	if _, err := a.Introduce(ctx, b.ID(), Introduction{Key: good, Token: make([]byte, MaxTokenSize+1)}); err == nil {
		t.Fatal("an oversized token was sent")
	}
	res, err := a.Introduce(ctx, b.ID(),
		Introduction{Key: good, Token: []byte("good")},
		Introduction{Key: bad, Token: []byte("bad")},
		Introduction{Key: none})
	if err != nil {
		t.Fatal(err)
	}
	// A hears which ones B refused, and why.
	if len(res.Rejected) != 2 || !res.Rejected[0].Key.Equal(bad) || !res.Rejected[1].Key.Equal(none) ||
		res.Rejected[0].Reason != "bad token" || res.Rejected[1].Reason != "bad token" {
		t.Fatalf("A's rejections: %+v", res.Rejected)
	}
	hsWait(t, "handshake at B", func() bool { return len(eb.with(a.ID())) > 0 })
	hs := eb.with(a.ID())
	if len(hs) != 1 {
		t.Fatalf("B saw %d handshakes, want 1 (malformed introductions are not sent)", len(hs))
	}
	hsSameIntros(t, "kept", hs[0].Introduced, []Introduction{{Key: good, Token: []byte("good")}})
	mu.Lock()
	defer mu.Unlock()
	if asked != 3 {
		t.Fatalf("Accept asked %d times, want 3", asked)
	}
}

// TestHandshakeNetRejectionReasonNotUTF8: an Accept error that quotes the
// token's raw bytes, or is long and not ASCII, still goes back as a reason
// (a proto3 string must be UTF-8, or the whole answer fails to encode).
func TestHandshakeNetRejectionReasonNotUTF8(t *testing.T) {
	b, eb := hsSwarm(t, Options{Accept: func(_ peer.ID, in Introduction) error {
		if len(in.Meta) > 0 {
			return errors.New(string(in.Meta))
		}
		return fmt.Errorf("token %s refused", in.Token)
	}})
	a, _ := hsSwarm(t, Options{})
	hsKnow(a, b)
	k1, k2 := randomKey(), randomKey()
	res, err := a.Introduce(hsCtx(t), b.ID(),
		Introduction{Key: k1, Token: []byte{0xff, 0xfe}},
		Introduction{Key: k2, Meta: []byte(strings.Repeat("€", 100))})
	if err != nil {
		t.Fatalf("Introduce: %v", err)
	}
	if len(res.Rejected) != 2 {
		t.Fatalf("rejections %+v, want 2", res.Rejected)
	}
	for _, rj := range res.Rejected {
		if !utf8.ValidString(rj.Reason) || len(rj.Reason) > maxReason || rj.Reason == "" {
			t.Fatalf("reason %q", rj.Reason)
		}
	}
	if n := len(eb.failures(a.ID())); n != 0 {
		t.Fatalf("B's HandshakeFailed fired %d times", n)
	}
}

// hsNoHandshake checks that neither side saw a handshake with the other.
func hsNoHandshake(t testing.TB, a *Swarm, ea *hsEvents, b *Swarm, eb *hsEvents) {
	t.Helper()
	if n, m := len(ea.with(b.ID())), len(eb.with(a.ID())); n+m != 0 {
		t.Fatalf("handshakes despite the firewall: %d at A, %d at B", n, m)
	}
	if len(a.Peers())+len(b.Peers()) != 0 {
		t.Fatalf("handshaken peers despite the firewall")
	}
}

// hsRefusedFor waits for e's Refused listener to name p with ErrFirewall.
func hsRefusedFor(t testing.TB, e *hsEvents, p peer.ID, reason error) {
	t.Helper()
	hsWait(t, "Refused event", func() bool { return len(e.refusals(p)) > 0 })
	for _, err := range e.refusals(p) {
		if !errors.Is(err, reason) {
			t.Fatalf("refused with %v, want %v", err, reason)
		}
	}
}

func TestHandshakeNetFirewallOwnHost(t *testing.T) {
	var aID peer.ID
	var mu sync.Mutex
	b, eb := hsSwarm(t, Options{Firewall: func(p peer.ID) bool {
		mu.Lock()
		defer mu.Unlock()
		return p != aID
	}})
	a, ea := hsSwarm(t, Options{})
	mu.Lock()
	aID = a.ID()
	mu.Unlock()
	hsKnow(a, b)

	// B's host refuses A during the security handshake, so B never says
	// anything: A sees a broken connection, not ErrRefused.
	_, err := a.Handshake(hsCtx(t), b.ID())
	t.Logf("A's handshake: %v", err)
	if err == nil || errors.Is(err, ErrRefused) || errors.Is(err, ErrHandshake) {
		t.Fatalf("A's handshake: %v, want a connection error", err)
	}
	if len(ea.failures(b.ID())) != 1 {
		t.Fatalf("A's HandshakeFailed fired %d times, want 1", len(ea.failures(b.ID())))
	}
	hsRefusedFor(t, eb, a.ID(), ErrFirewall)

	// Wanted, A keeps dialing and keeps failing.
	if err := a.JoinPeer(addrInfo(b)); err != nil {
		t.Fatal(err)
	}
	hsWait(t, "DialFailed at A", func() bool { return len(ea.dialErrors(b.ID())) > 0 })
	a.LeavePeer(b.ID())
	hsNoHandshake(t, a, ea, b, eb)
	if n := len(eb.failures(a.ID())); n != 0 {
		t.Fatalf("B's HandshakeFailed fired %d times: the stream never reached it", n)
	}

	// Refusing on our side is known before any dial: ErrRefused and
	// ErrFirewall, and JoinPeer says so at once.
	_, err = b.Handshake(hsCtx(t), a.ID())
	if !errors.Is(err, ErrRefused) || !errors.Is(err, ErrFirewall) {
		t.Fatalf("B's handshake with A: %v, want ErrRefused and ErrFirewall", err)
	}
	if err := b.JoinPeer(addrInfo(a)); !errors.Is(err, ErrFirewall) {
		t.Fatalf("B's JoinPeer(A): %v, want ErrFirewall", err)
	}
	hsNoHandshake(t, a, ea, b, eb)
}

func TestHandshakeNetFirewallHandedInHost(t *testing.T) {
	hb := hsRawHost(t)
	var aID peer.ID
	var mu sync.Mutex
	b, eb := hsSwarm(t, Options{Host: hb, Firewall: func(p peer.ID) bool {
		mu.Lock()
		defer mu.Unlock()
		return p != aID
	}})
	a, ea := hsSwarm(t, Options{})
	c, ec := hsSwarm(t, Options{})
	mu.Lock()
	aID = a.ID()
	mu.Unlock()
	hsKnow(a, b)
	hsKnow(c, b)

	// B's host has no gater of ours: the connection is made, and closed by
	// B's Connected notifiee, which libp2p runs before it accepts any
	// stream on the connection, so B never says anything either.
	_, err := a.Handshake(hsCtx(t), b.ID())
	t.Logf("A's handshake: %v", err)
	if err == nil || errors.Is(err, ErrRefused) || errors.Is(err, ErrHandshake) {
		t.Fatalf("A's handshake: %v, want a connection error", err)
	}
	hsRefusedFor(t, eb, a.ID(), ErrFirewall)
	if n := len(eb.failures(a.ID())); n != 0 {
		t.Fatalf("B's HandshakeFailed fired %d times: the stream never reached it", n)
	}
	hsWait(t, "B to drop A", func() bool { return hb.Network().Connectedness(a.ID()) != network.Connected })
	hsNoHandshake(t, a, ea, b, eb)

	// Everyone else is welcome, and the host stays B's caller's.
	if _, err := c.Handshake(hsCtx(t), b.ID()); err != nil {
		t.Fatal(err)
	}
	hsWait(t, "B's handshake with C", func() bool { return len(eb.with(c.ID())) > 0 && len(ec.with(b.ID())) > 0 })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := hsRawHost(t).Connect(hsCtx(t), peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()}); err != nil {
		t.Fatalf("closing B closed the host it was handed: %v", err)
	}
}

func TestHandshakeNetGarbage(t *testing.T) {
	k := randomKey()
	const maxSize = 4096
	hello2, err := hsDelimited(&pb.Hello{Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		send []byte
	}{
		{"bad protobuf", []byte{5, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"bad length varint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"oversized length", binary.AppendUvarint(nil, maxSize+1)},
		{"huge length", binary.AppendUvarint(nil, 1<<62)},
		{"version 2", hello2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, eb := hsSwarm(t, Options{MaxMessageSize: maxSize, Offer: offerOf(k)})
			raw := hsRawHost(t)
			st := hsRawStream(t, raw, b)
			if _, err := st.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			got, err := stdio.ReadAll(st)
			t.Logf("raw side reads %d bytes, %v", len(got), err)
			if len(got) != 0 || !errors.Is(err, network.ErrReset) {
				t.Fatalf("raw side read %d bytes, %v; want a reset stream", len(got), err)
			}
			hsWait(t, "HandshakeFailed", func() bool { return len(eb.failures(raw.ID())) > 0 })
			for _, err := range eb.failures(raw.ID()) {
				if !errors.Is(err, ErrHandshake) {
					t.Fatalf("HandshakeFailed with %v, want ErrHandshake", err)
				}
			}
			if n := len(eb.with(raw.ID())); n != 0 {
				t.Fatalf("%d handshakes with the raw host", n)
			}
			// B still handshakes with a good peer.
			c, _ := hsSwarm(t, Options{Offer: offerOf(k)})
			hsKnow(c, b)
			h, err := c.Handshake(hsCtx(t), b.ID())
			if err != nil {
				t.Fatal(err)
			}
			hsSameKeys(t, "after the garbage", hsSharedKeys(h), []ed25519.PublicKey{k})
		})
	}
}

// hsDelimited encodes h as on the wire: a varint length and the message.
func hsDelimited(h *pb.Hello) ([]byte, error) {
	var w hsBuffer
	err := pbio.NewDelimitedWriter(&w).WriteMsg(h)
	return w.b, err
}

type hsBuffer struct{ b []byte }

func (w *hsBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func TestHandshakeNetMaxPeers(t *testing.T) {
	k := randomKey()
	b, eb := hsSwarm(t, Options{MaxPeers: 1, Offer: offerOf(k)})
	a, _ := hsSwarm(t, Options{Offer: offerOf(k)})
	c, ec := hsSwarm(t, Options{MaxPeers: 1, Offer: offerOf(k)})
	hsKnow(a, b)
	hsKnow(c, b)
	hsKnow(c, a)
	ctx := hsCtx(t)
	if _, err := a.Handshake(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
	// B is full: C is refused by B, and told so.
	_, err := c.Handshake(ctx, b.ID())
	t.Logf("C's handshake with full B: %v", err)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("C's handshake with full B: %v, want ErrRefused", err)
	}
	hsRefusedFor(t, eb, c.ID(), ErrPeerLimit)
	if len(ec.failures(b.ID())) != 1 {
		t.Fatalf("C's HandshakeFailed fired %d times, want 1", len(ec.failures(b.ID())))
	}
	if len(eb.with(c.ID())) != 0 || len(ec.with(b.ID())) != 0 {
		t.Fatal("a handshake past B's peer limit")
	}
	// A peer already handshaken may handshake again.
	if _, err := a.Handshake(ctx, b.ID()); err != nil {
		t.Fatalf("A again: %v", err)
	}
	// C, now full itself with A, refuses B before sending anything.
	if _, err := c.Handshake(ctx, a.ID()); err != nil {
		t.Fatal(err)
	}
	_, err = c.Handshake(ctx, b.ID())
	if !errors.Is(err, ErrRefused) || !errors.Is(err, ErrPeerLimit) {
		t.Fatalf("full C's handshake with B: %v, want ErrRefused and ErrPeerLimit", err)
	}
	hsRefusedFor(t, ec, b.ID(), ErrPeerLimit)
	if got := len(b.Peers()); got != 1 {
		t.Fatalf("B has %d peers, want 1", got)
	}
}

func TestHandshakeNetTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond

	t.Run("responder", func(t *testing.T) {
		b, eb := hsSwarm(t, Options{HandshakeTimeout: timeout})
		raw := hsRawHost(t)
		st := hsRawStream(t, raw, b)
		start := time.Now()
		// Reading sends the protocol header, never a Hello.
		n, err := st.Read(make([]byte, 1))
		elapsed := time.Since(start)
		t.Logf("raw side read %d bytes, %v after %v", n, err, elapsed)
		if n != 0 || !errors.Is(err, network.ErrReset) {
			t.Fatalf("raw side read %d bytes, %v; want a reset stream", n, err)
		}
		if elapsed < timeout {
			t.Fatalf("reset after %v, before the %v timeout", elapsed, timeout)
		}
		hsWait(t, "HandshakeFailed", func() bool { return len(eb.failures(raw.ID())) > 0 })
		if err := eb.failures(raw.ID())[0]; !errors.Is(err, ErrHandshake) {
			t.Fatalf("HandshakeFailed with %v, want ErrHandshake", err)
		}
	})

	t.Run("initiator", func(t *testing.T) {
		a, ea := hsSwarm(t, Options{HandshakeTimeout: timeout})
		raw := hsRawHost(t)
		read := make(chan error, 1)
		raw.SetStreamHandler(HandshakeProtocol, func(st network.Stream) {
			var h pb.Hello
			read <- pbio.NewDelimitedReader(st, 1<<20).ReadMsg(&h)
			// and never answer
		})
		a.Host().Peerstore().AddAddrs(raw.ID(), raw.Addrs(), time.Hour)
		start := time.Now()
		_, err := a.Handshake(hsCtx(t), raw.ID())
		t.Logf("A's handshake: %v after %v", err, time.Since(start))
		if !errors.Is(err, ErrHandshake) {
			t.Fatalf("A's handshake with a silent peer: %v, want ErrHandshake", err)
		}
		select {
		case err := <-read:
			if err != nil {
				t.Fatalf("the silent peer did not get A's Hello: %v", err)
			}
		case <-time.After(hsWaitTime):
			t.Fatal("A's stream never reached the silent peer")
		}
		if fs := ea.failures(raw.ID()); len(fs) != 1 || !errors.Is(fs[0], ErrHandshake) {
			t.Fatalf("A's HandshakeFailed: %v", fs)
		}
	})
}
