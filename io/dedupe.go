package io

import (
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Two peers that dial each other at once each get a connection: libp2p
// keeps both. One is enough, so the peer with the smaller ID keeps the
// connection it dialed and closes the other once its streams are done: a
// handshake there is always waited for (at most HandshakeTimeout), other
// streams for retireGrace, so that a long-lived one (a replication
// session, which starts again on the connection kept) does not hold the
// duplicate open. Only one side decides, so the two never close
// different connections and leave none.

const (
	// retirePoll is how often a connection being retired is looked at
	// for streams still running.
	retirePoll = 10 * time.Millisecond
	// retireGrace is how long streams other than handshakes may keep a
	// duplicate connection open.
	retireGrace = time.Second
	// retireQuiet is how long a duplicate must have had no streams
	// before it is closed: the remote may pick it for a new stream at any
	// moment, and a close right after its last stream ended would reset
	// one opened just then.
	retireQuiet = 60 * time.Millisecond
)

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

// retire closes c once it has had no streams for retireQuiet, or late
// (see above).
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
		start := time.Now()
		var idle time.Time
		t := time.NewTicker(retirePoll)
		defer t.Stop()
		for !c.IsClosed() {
			now := time.Now()
			if busy(c, now.Sub(start), s.o.HandshakeTimeout) {
				idle = time.Time{}
			} else if idle.IsZero() {
				idle = now
			} else if now.Sub(idle) >= retireQuiet {
				break
			}
			select {
			case <-t.C:
			case <-s.ctx.Done():
				return
			}
		}
		_ = c.Close()
	}()
}

// busy reports whether c, being retired for d, still has streams to wait
// for: a handshake (or a stream whose protocol is not agreed yet) until
// hsTimeout, any other until retireGrace.
func busy(c network.Conn, d, hsTimeout time.Duration) bool {
	for _, st := range c.GetStreams() {
		switch p := st.Protocol(); {
		case (p == HandshakeProtocol || p == "") && d < hsTimeout:
			return true
		case d < retireGrace:
			return true
		}
	}
	return false
}
