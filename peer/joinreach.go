package peer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	folioio "github.com/folio-p2p/folio/io"
)

// reachInviter hands in (our book, with the invite's token) to the
// inviter, trying again when an attempt fails on the way: the inviter not
// listening yet, a dial or a handshake that timed out on a loaded
// machine, an inviter that has just opened and whose gate is not ready.
// It makes at most Options.JoinAttempts attempts, waiting Retry, then
// twice as long each time up to 8 × Retry, in between; ctx ends the waits. A refusal of
// the invite itself (used, revoked, expired, not its secret) is final.
// The error at the end wraps ErrUnreachable and the last attempt's error.
func (p *Peer) reachInviter(ctx context.Context, inviter peer.ID, in folioio.Introduction) error {
	wait := p.o.Retry
	var last error
	for attempt := 1; ; attempt++ {
		h, err := p.v.Introduce(ctx, inviter, in)
		if err == nil {
			for _, rj := range h.Rejected {
				if rj.Reason != errNotReady.Error() {
					return fmt.Errorf("%w: %s", ErrInviteRefused, rj.Reason)
				}
				err = fmt.Errorf("the inviter refused: %s", rj.Reason)
			}
			if err == nil {
				return nil
			}
		}
		last = err
		if !retryable(ctx, err) || attempt >= p.o.JoinAttempts {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("peer: join: reach the inviter %s: %w (after %d attempts; the last: %v)", inviter, ctx.Err(), attempt, last)
		case <-p.ctx.Done():
			t.Stop()
			return ErrClosed
		case <-t.C:
		}
		wait = min(2*wait, 8*p.o.Retry)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("peer: join: reach the inviter %s: %w (the last attempt: %v)", inviter, ctx.Err(), last)
	}
	return fmt.Errorf("peer: join: reach the inviter %s: %w: %w", inviter, ErrUnreachable, last)
}

// retryable reports whether a failed attempt to reach the inviter may
// succeed later: not when ctx ended or this side is closed or offline.
func retryable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, folioio.ErrClosed) && !errors.Is(err, ErrOffline) && !errors.Is(err, folioio.ErrFirewall)
}
