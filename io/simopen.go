package io

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// Pauses before the one retry of a failed dial. Two hosts that dial
// each other at the same moment over TCP dial from their listening
// ports (libp2p's reuseport), so both dials can merge into one TCP
// connection on which each side speaks as the client: both fail (TLS
// "unexpected clientHello"). Retrying after different pauses, the
// smaller peer ID first, breaks the tie: its dial is usually done, and
// the larger one's retry then finds the connection already open.
const (
	simOpenRetrySmaller = 20 * time.Millisecond
	simOpenRetryLarger  = 120 * time.Millisecond
)

// newStream opens a stream to p, retrying once when the dial failed and
// no connection exists (see simOpenRetrySmaller).
func (s *Swarm) newStream(ctx context.Context, p peer.ID, proto protocol.ID) (network.Stream, error) {
	st, err := s.h.NewStream(ctx, p, proto)
	if err == nil || ctx.Err() != nil || s.ctx.Err() != nil || s.h.Network().Connectedness(p) == network.Connected {
		return st, err
	}
	pause := simOpenRetrySmaller
	if s.h.ID() > p {
		pause = simOpenRetryLarger
	}
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, err
	case <-s.ctx.Done():
		return nil, err
	case <-t.C:
	}
	// The failure put p's addresses into libp2p's dial backoff, which
	// would refuse the retry outright.
	if sw, ok := s.h.Network().(*swarm.Swarm); ok && s.h.Network().Connectedness(p) != network.Connected {
		sw.Backoff().Clear(p)
	}
	return s.h.NewStream(ctx, p, proto)
}
