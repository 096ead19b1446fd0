package io

import (
	"bufio"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

const echoProtocol = "/folio/test/echo-slow"

// slowEcho answers one line after a pause, so the stream is still open
// while a duplicate connection is retired.
func slowEcho(st network.Stream) {
	defer st.Close()
	line, err := bufio.NewReader(st).ReadString('\n')
	if err != nil {
		st.Reset()
		return
	}
	time.Sleep(150 * time.Millisecond)
	_, _ = st.Write([]byte(line))
}

func echo(ctx context.Context, s *Swarm, p peer.ID, msg string) error {
	st, err := s.Host().NewStream(ctx, p, echoProtocol)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Write([]byte(msg + "\n")); err != nil {
		return err
	}
	got, err := bufio.NewReader(st).ReadString('\n')
	if err != nil {
		return err
	}
	if got != msg+"\n" {
		return context.Canceled
	}
	return nil
}

// connectOnceMore is a plain libp2p Connect, tried again once after a
// failure: two hosts dialing each other from their listening ports can
// meet in one TCP simultaneous open that fails both dials (libp2p's own
// behaviour, not io's; io's Handshake retries the same way, see
// simopen.go).
func connectOnceMore(ctx context.Context, s *Swarm, p peer.ID) error {
	err := s.Host().Connect(ctx, peer.AddrInfo{ID: p})
	if err == nil {
		return nil
	}
	time.Sleep(50 * time.Millisecond)
	if sw, ok := s.Host().Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(p)
	}
	return s.Host().Connect(ctx, peer.AddrInfo{ID: p})
}

// countConns counts the connections ever opened to the host.
func countConns(s *Swarm) *atomic.Int32 {
	n := new(atomic.Int32)
	s.Host().Network().Notify(&network.NotifyBundle{ConnectedF: func(network.Network, network.Conn) { n.Add(1) }})
	return n
}

// Two real hosts dial each other at once, handshake and open streams on
// whatever connection libp2p picks: everything succeeds, and one
// connection is left, the one the smaller peer ID dialed.
func TestSimultaneousDialsLeaveOneConnection(t *testing.T) {
	key := randomKey()
	duplicates := 0
	for round := 0; round < 30 && (duplicates < 3 || round < 5); round++ {
		a, ea := hsSwarm(t, Options{Offer: offerOf(key)})
		b, eb := hsSwarm(t, Options{Offer: offerOf(key)})
		for _, s := range []*Swarm{a, b} {
			s.Host().SetStreamHandler(echoProtocol, slowEcho)
		}
		hsKnow(a, b)
		hsKnow(b, a)
		na, nb := countConns(a), countConns(b)
		ctx := hsCtx(t)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for _, pair := range [][2]*Swarm{{a, b}, {b, a}} {
			from, to := pair[0], pair[1]
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				if err := connectOnceMore(ctx, from, to.ID()); err != nil {
					errs <- err
					return
				}
				errs <- echo(ctx, from, to.ID(), "hello from "+from.ID().String())
			}()
			go func() {
				defer wg.Done()
				<-start
				_, err := from.Handshake(ctx, to.ID())
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if na.Load() > 1 || nb.Load() > 1 {
			duplicates++
		}
		one := func() bool {
			return len(a.Host().Network().ConnsToPeer(b.ID())) == 1 && len(b.Host().Network().ConnsToPeer(a.ID())) == 1
		}
		hsWait(t, "single connection", one)
		ca, cb := a.Host().Network().ConnsToPeer(b.ID())[0], b.Host().Network().ConnsToPeer(a.ID())[0]
		if !ca.LocalMultiaddr().Equal(cb.RemoteMultiaddr()) || !ca.RemoteMultiaddr().Equal(cb.LocalMultiaddr()) {
			t.Fatalf("round %d: the two sides kept different connections: %s–%s and %s–%s", round, ca.LocalMultiaddr(), ca.RemoteMultiaddr(), cb.LocalMultiaddr(), cb.RemoteMultiaddr())
		}
		small := a
		if b.ID() < a.ID() {
			small = b
		}
		// Which one is kept matters only when there were two: a dial that
		// finds the other's connection already open makes none.
		if dup := na.Load() > 1 || nb.Load() > 1; dup {
			if c := small.Host().Network().ConnsToPeer(map[*Swarm]peer.ID{a: b.ID(), b: a.ID()}[small])[0]; c.Stat().Direction != network.DirOutbound {
				t.Fatalf("round %d: kept the connection the larger ID dialed", round)
			}
		}
		for _, e := range []*hsEvents{ea, eb} {
			if f := e.failures(a.ID()); len(f) > 0 {
				t.Fatalf("round %d: handshake failed: %v", round, f)
			}
			if f := e.failures(b.ID()); len(f) > 0 {
				t.Fatalf("round %d: handshake failed: %v", round, f)
			}
		}
		// Still connected and handshaken after the duplicate went.
		if a.Host().Network().Connectedness(b.ID()) != network.Connected || len(a.Peers()) != 1 || len(b.Peers()) != 1 {
			t.Fatalf("round %d: lost the peer: %d and %d handshaken", round, len(a.Peers()), len(b.Peers()))
		}
		a.Close()
		b.Close()
	}
	if duplicates == 0 {
		t.Fatal("no round dialed twice: the test did not exercise duplicates")
	}
	t.Logf("%d rounds with duplicate connections", duplicates)
}
