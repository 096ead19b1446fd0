package peer

import (
	"context"
	"fmt"
	"time"
)

// Join waits for the inviter's book, the task it names and the book's
// first pages. These change only in steps of the shell: an introduction
// handled (onIntroduced) and pages read (scanRoot). So Join waits for
// those steps in its task, not for a clock: it used to look every 10 ms,
// and poke the watcher to read every log of the task each time, which
// put up to a poll period on every join's path and a scan of the whole
// task per look.

// joinWaits are the channels of the Joins waiting in a task: closed (and
// forgotten) at the next step in that task. Guarded by Peer.mu.
type joinWaits map[TaskID]chan struct{}

// stepWait returns a channel closed at the next step in task. Call with
// p.mu held.
func (p *Peer) stepWait(task TaskID) <-chan struct{} {
	if p.waits == nil {
		p.waits = joinWaits{}
	}
	ch := p.waits[task]
	if ch == nil {
		ch = make(chan struct{})
		p.waits[task] = ch
	}
	return ch
}

// stepped wakes the Joins waiting in task. Call with p.mu held.
func (p *Peer) stepped(task TaskID) {
	if ch := p.waits[task]; ch != nil {
		close(ch)
		delete(p.waits, task)
	}
}

// awaitInviter waits until the inviter's book in task is introduced and
// the task known, then at most Options.JoinHistoryWait more for its first
// pages to be read (see Join). It looks again at each step in the task,
// and every Options.Retry in case a step was missed (then it pokes the
// watcher, as the old loop did at each look).
func (p *Peer) awaitInviter(ctx context.Context, r *root, task TaskID, m *member) error {
	var known <-chan time.Time
	tick := time.NewTicker(p.o.Retry)
	defer tick.Stop()
	for {
		p.mu.Lock()
		l := r.logs[m.id]
		ok := m.book != nil && r.tasks[task] != nil
		read := l != nil && l.next > 1
		wake := p.stepWait(task)
		p.mu.Unlock()
		p.joinLooks.Add(1)
		if ok && read {
			return nil
		}
		if ok && known == nil {
			t := time.NewTimer(p.o.JoinHistoryWait)
			defer t.Stop()
			known = t.C
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("peer: join: waiting for the inviter's book: %w", ctx.Err())
		case <-p.ctx.Done():
			return ErrClosed
		case <-known:
			return nil
		case <-wake:
		case <-tick.C:
			p.pokeTask(task)
		}
	}
}
