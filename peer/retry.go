package peer

import "time"

// retryLoop tries again the introductions members have not accepted yet
// (they may not have known us when we tried), each Options.Retry after
// its last try. It visits the pending introductions alone (core's
// unacked) and sleeps until the first of them is due: with none pending
// (every member acked, the usual state of a formed group) it has no
// timer and wakes only when told (kickRetry) that a member was made or
// an introduction ended. So an idle vault pays nothing per task or member
// here, where a ticker scanning every member of every task woke every
// Retry (BENCHMARKS.md, issue 13, part M).
func (p *Peer) retryLoop() {
	defer p.wg.Done()
	// A member first seen now is tried Retry from now, as the first tick
	// of a ticker started now would: a member restored from the journal
	// is likely acked by the handshake of the vault's redial first, and a
	// Join's inviter is introduced by Join itself.
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		p.mu.Lock()
		// A kick sent before we hold mu is answered by this look: its
		// change was made under mu before it. Left buffered, it would
		// make a second look at once, over every pending introduction
		// (two of ~2,000 after a reopen at 1,000 tasks, right when the
		// first message is sent).
		select {
		case <-p.retryKick:
		default:
		}
		next := p.retryDue(time.Now())
		p.mu.Unlock()
		var fire <-chan time.Time
		if !next.IsZero() {
			if t == nil {
				t = time.NewTimer(time.Until(next))
			} else {
				t.Reset(time.Until(next))
			}
			fire = t.C
		}
		select {
		case <-p.ctx.Done():
			return
		case <-fire:
		case <-p.retryKick:
		}
	}
}

// kickRetry tells the retry loop to look at the pending introductions
// again: a member was made, or an introduction of ours ended.
func (p *Peer) kickRetry() {
	select {
	case p.retryKick <- struct{}{}:
	default:
	}
}

// retryDue introduces our book to every pending member whose retry is
// due at now and returns when the next one is (zero: none waits on the
// clock). O(pending introductions). Call with p.mu held.
func (p *Peer) retryDue(now time.Time) time.Time {
	p.retryScans.Add(1)
	var next time.Time
	later := func(at time.Time) {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	for _, e := range p.pendingIntros() {
		m := e.m
		if m.introducing {
			continue // its end kicks the loop
		}
		last := m.lastTry
		if last.IsZero() {
			if m.since.IsZero() {
				m.since = now
			}
			last = m.since
		}
		if end := p.introEnded[m.id]; m.restored && end.After(last) {
			// An introduction to its peer since the restart ended: the
			// handshakes under way ack most of the peer's other books
			// (handshaken). Tried a Retry after, not at once: else
			// every task's book may be introduced again, a goroutine
			// each (up to 1,477 goroutines at 1,000 tasks, measured).
			last = end
		}
		due := last.Add(p.o.Retry)
		if now.Before(due) {
			if p.retry(e.r, m, true) {
				later(due)
			}
			continue
		}
		if !p.retry(e.r, m, true) {
			// Gone, or waiting for another introduction to its peer to
			// end (which kicks the loop): no timer for it.
			continue
		}
		p.introduceLocked(e.r, m)
		if !m.introducing && !m.acked && !p.closed {
			// Deferred (deferDial): looked at again when its grace
			// ends, or a Retry from now if it is connected by then.
			later(minTime(m.lastTry.Add(p.o.AwaitGrace), now.Add(p.o.Retry)))
		}
	}
	return next
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
