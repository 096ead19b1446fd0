package io

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

func protocolID(s string) protocol.ID { return protocol.ID(s) }

// JoinPeer makes ai a wanted peer: dialed now, handshaken, and redialed
// with backoff whenever the connection drops, until LeavePeer.
func (s *Swarm) JoinPeer(ai peer.AddrInfo) error {
	if ai.ID == "" {
		return fmt.Errorf("io: join peer: empty peer ID")
	}
	if ai.ID == s.h.ID() {
		return fmt.Errorf("io: join peer: that is this peer")
	}
	_, err := s.want(ai, func(r *remote) { r.explicit = true }, true)
	return err
}

// LeavePeer stops redialing a peer added by JoinPeer. An open connection
// stays until the remote or libp2p closes it.
func (s *Swarm) LeavePeer(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.peers[p]; r != nil {
		r.explicit = false
		s.forgetLocked(p)
	}
}

// want records why we want ai and starts a dialer unless one runs or the
// peer is already handshaken (and force is false). The returned channel
// closes after the dialer's first attempt.
func (s *Swarm) want(ai peer.AddrInfo, why func(*remote), force bool) (<-chan struct{}, error) {
	done := make(chan struct{})
	if ai.ID == s.h.ID() {
		close(done)
		return done, nil
	}
	if !s.o.Firewall(ai.ID) {
		if f := s.o.Listener.Refused; f != nil {
			f(ai.ID, ErrFirewall)
		}
		close(done)
		return done, ErrFirewall
	}
	if len(ai.Addrs) > 0 {
		s.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.AddressTTL)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(done)
		return done, ErrClosed
	}
	r := s.remoteLocked(ai.ID)
	why(r)
	switch {
	case r.dialing:
		return r.firstTry, nil
	case r.handshaken && !force:
		close(done)
		return done, nil
	}
	s.startDialerLocked(ai.ID, r, 0)
	return r.firstTry, nil
}

func (s *Swarm) startDialerLocked(p peer.ID, r *remote, wait time.Duration) {
	r.dialing = true
	r.firstTry = make(chan struct{})
	s.wg.Add(1)
	go s.dial(p, r, r.firstTry, wait)
}

// dial connects to p and handshakes, retrying on the Backoff schedule
// while p is wanted. Explicit peers are retried for ever at the last
// interval; discovered ones are given up after the schedule.
func (s *Swarm) dial(p peer.ID, r *remote, first chan struct{}, wait time.Duration) {
	defer s.wg.Done()
	firstDone := false
	defer func() {
		if !firstDone {
			close(first)
		}
	}()
	for attempt := 1; ; attempt++ {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				s.mu.Lock()
				r.dialing = false
				s.mu.Unlock()
				return
			}
		}
		err := s.connectAndHandshake(p)
		s.mu.Lock()
		if !firstDone {
			firstDone = true
			close(first)
		}
		if err == nil && !r.connected && r.wanted() && !s.closed && s.ctx.Err() == nil {
			// The connection dropped while this dialer still ran, so
			// onDisconnected left the redial to it: start the schedule
			// again.
			s.mu.Unlock()
			attempt, wait = 0, s.o.Backoff[0]
			continue
		}
		if err == nil || !r.wanted() || s.closed || s.ctx.Err() != nil {
			r.known = false // met again: from now on wanted only for its own reasons
			r.dialing = false
			s.forgetLocked(p)
			s.mu.Unlock()
			return
		}
		next := time.Duration(0)
		if attempt < len(s.o.Backoff) {
			next = s.o.Backoff[attempt]
		} else if r.explicit {
			next = s.o.Backoff[len(s.o.Backoff)-1]
		}
		if next == 0 {
			// Discovery finds it again if it comes back.
			clear(r.topics)
			r.lan, r.known = false, false
			r.dialing = false
			s.forgetLocked(p)
		}
		s.mu.Unlock()
		if f := s.o.Listener.DialFailed; f != nil {
			f(p, attempt, next, err)
		}
		if next == 0 {
			return
		}
		wait = next
	}
}

func (s *Swarm) connectAndHandshake(p peer.ID) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.DialTimeout)
	defer cancel()
	// Our schedule replaces libp2p's own dial backoff, which would refuse
	// a restarted peer for a while.
	if sw, ok := s.h.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(p)
	}
	if err := s.h.Connect(ctx, peer.AddrInfo{ID: p}); err != nil {
		// The addresses we know may be stale (the peer restarted on
		// another port, moved networks): ask the DHT where it is now.
		if !s.relocate(ctx, p) {
			return err
		}
		if sw, ok := s.h.Network().(*swarm.Swarm); ok {
			sw.Backoff().Clear(p)
		}
		if err := s.h.Connect(ctx, peer.AddrInfo{ID: p}); err != nil {
			return err
		}
	}
	_, err := s.Handshake(ctx, p)
	return err
}

// relocate looks p up in the DHT and records the addresses found; it
// reports whether any were.
func (s *Swarm) relocate(ctx context.Context, p peer.ID) bool {
	if s.dht == nil {
		return false
	}
	ai, err := s.dht.FindPeer(ctx, p)
	if err != nil || len(ai.Addrs) == 0 {
		return false
	}
	s.h.Peerstore().AddAddrs(p, ai.Addrs, peerstore.AddressTTL)
	return true
}
