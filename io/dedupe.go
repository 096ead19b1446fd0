package io

import (
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Two peers that dial each other at once each get a connection: libp2p
// keeps both. One is enough, so the peer with the smaller ID keeps the
// connection it dialed and closes the other, once no stream runs on it
// (a handshake under way there is not cut), waiting at most
// HandshakeTimeout. Only one side decides, so the two never close
// different connections and leave none.

// retirePoll is how often a connection being retired is looked at for
// streams still running.
const retirePoll = 10 * time.Millisecond

// dedupe retires every connection to p but the one to keep, when this
// peer is the one that decides.
func (s *Swarm) dedupe(p peer.ID) {
	if s.h.ID() >= p {
		return
	}
	conns := s.h.Network().ConnsToPeer(p)
	if len(conns) < 2 {
		return
	}
	keep := conns[0]
	for _, c := range conns[1:] {
		if betterConn(c, keep) {
			keep = c
		}
	}
	for _, c := range conns {
		if c != keep {
			s.retire(c)
		}
	}
}

// betterConn reports whether a is kept rather than b: a direct connection
// before a limited (relayed) one, one this peer dialed before one it
// accepted, then the older.
func betterConn(a, b network.Conn) bool {
	as, bs := a.Stat(), b.Stat()
	if as.Limited != bs.Limited {
		return !as.Limited
	}
	if as.Direction != bs.Direction {
		return as.Direction == network.DirOutbound
	}
	return as.Opened.Before(bs.Opened)
}

// retire closes c once no stream runs on it, or after HandshakeTimeout.
func (s *Swarm) retire(c network.Conn) {
	s.mu.Lock()
	if s.closed || s.retiring[c.ID()] {
		s.mu.Unlock()
		return
	}
	s.retiring[c.ID()] = true
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.retiring, c.ID())
			s.mu.Unlock()
		}()
		deadline := time.Now().Add(s.o.HandshakeTimeout)
		t := time.NewTicker(retirePoll)
		defer t.Stop()
		for len(c.GetStreams()) > 0 && time.Now().Before(deadline) && !c.IsClosed() {
			select {
			case <-t.C:
			case <-s.ctx.Done():
				return
			}
		}
		_ = c.Close()
	}()
}
