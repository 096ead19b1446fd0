package peer

import (
	"context"
	"testing"
	"time"
)

// pendingCount is how many of p's introductions are not acked yet.
func (p *Peer) pendingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pendingIntros())
}

// TestRetryLoopIdle counts the retry loop's looks at the pending
// introductions (not time): while a group forms it looks, and once every
// member acked every introduction it does not look again, however many
// Retry periods pass, until there is new work (a newcomer), after which
// it is quiet again. A loop on a ticker looks every Retry at every member
// of every task (here ~20 looks per peer per idle period).
func TestRetryLoopIdle(t *testing.T) {
	const retry = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ps, _ := openCounted(t, ctx, 5, func(_ int, o *Options) { o.Retry = retry })
	task := mustCreate(t, ctx, ps[0], "idle")
	scans := func(ps []*Peer) (n int64) {
		for _, p := range ps {
			n += p.retryScans.Load()
		}
		return n
	}
	// formed waits until each of ps holds a book from every other and
	// has no introduction pending.
	formed := func(ps []*Peer) {
		t.Helper()
		for _, p := range ps {
			for {
				bs, err := p.Books(task)
				if err == nil && len(bs) >= 2*(len(ps)-1) && p.pendingCount() == 0 {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("%s: %d books, %d introductions pending", p.ID().ShortString(), len(bs), p.pendingCount())
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	idle := func(ps []*Peer, what string) {
		t.Helper()
		before := scans(ps)
		time.Sleep(20 * retry)
		if d := scans(ps) - before; d != 0 {
			t.Fatalf("%s: the retry loops looked %d times in 20 Retry periods with nothing pending", what, d)
		}
	}
	for _, p := range ps[1:4] {
		mustJoin(t, ctx, ps[0], p, task)
	}
	formed(ps[:4])
	if scans(ps[:4]) == 0 {
		t.Fatal("the retry loops never looked while the group formed")
	}
	idle(ps[:4], "formed")

	before := scans(ps)
	mustJoin(t, ctx, ps[1], ps[4], task)
	formed(ps)
	if scans(ps) == before {
		t.Fatal("the retry loops did not look at the newcomer")
	}
	idle(ps, "after a join")

	// An introduction whose answer was lost (un-acked here by hand) is
	// made again by the retry loop alone: nothing else prompts it.
	q, o := ps[2], ps[3].ID()
	q.mu.Lock()
	r := q.roots[task]
	m := r.members[o]
	m.acked = false
	q.unacked[m] = r
	q.mu.Unlock()
	before = scans(ps)
	q.kickRetry()
	formed(ps)
	q.mu.Lock()
	acked := m.acked
	q.mu.Unlock()
	if !acked || scans(ps) == before {
		t.Fatalf("the lost introduction: acked %v, %d looks", acked, scans(ps)-before)
	}
	idle(ps, "after the lost introduction")
}

// TestAwayMemberIntroduced: an introduction to a member that is away
// stays pending until it is accepted. Ana, bob and cy share a task; while
// bob is closed, dee joins through ana and introduces her book to bob,
// which fails. Bob comes back (on a new port) and reads the join message
// naming dee; he introduces his book to her, which makes her introduce
// hers again (the retry loop would, later), and both read each other's
// messages, with nothing left pending at dee.
func TestAwayMemberIntroduced(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	bobDir := t.TempDir()
	ana := openPeer(t, t.TempDir(), "ana")
	bob := openPeer(t, bobDir, "bob")
	cy := openPeer(t, t.TempDir(), "cy")
	task := mustCreate(t, ctx, ana, "away")
	mustJoin(t, ctx, ana, bob, task)
	mustJoin(t, ctx, ana, cy, task)
	waitConverged(t, []*Peer{ana, bob, cy}, task, 3, 30*time.Second) // the update, two joins
	bobID := bob.ID()
	if err := bob.Close(); err != nil {
		t.Fatal(err)
	}
	dee := openPeer(t, t.TempDir(), "dee")
	mustJoin(t, ctx, ana, dee, task)
	// Dee knows bob (the join messages name him) but cannot reach him.
	for {
		dee.mu.Lock()
		m := dee.roots[task].members[bobID]
		tried := m != nil && !m.lastTry.IsZero() && !m.acked
		dee.mu.Unlock()
		if tried {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("dee never tried to introduce her book to bob")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if dee.pendingCount() == 0 {
		t.Fatal("dee's introduction to the closed bob counted as accepted")
	}
	bob = openPeer(t, bobDir, "")
	mustSend(t, ctx, dee, task, "hello bob")
	mustSend(t, ctx, bob, task, "hello dee")
	waitConverged(t, []*Peer{ana, bob, cy, dee}, task, 6, 60*time.Second)
	for dee.pendingCount() != 0 {
		if ctx.Err() != nil {
			t.Fatalf("dee still has %d introductions pending", dee.pendingCount())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRetryKickOneLook: kicks that reach the retry loop while it waits
// for the lock are answered by one look, not one look and then another
// for the kick left buffered. After a reopen the loop starts with such a
// kick (the replay's new members) and ~2,000 pending introductions at
// 1,000 tasks, so the second look was a second pass over all of them.
func TestRetryKickOneLook(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps, _ := openCounted(t, ctx, 1, func(int, *Options) {})
	p := ps[0]
	// Let the loop finish what Open started, then hold the lock so
	// that the first kick wakes it and leaves it waiting on mu.
	settled := func() int64 {
		for {
			n := p.retryScans.Load()
			time.Sleep(50 * time.Millisecond)
			if p.retryScans.Load() == n {
				return n
			}
		}
	}
	for range 3 {
		before := settled()
		p.mu.Lock()
		p.kickRetry()
		time.Sleep(50 * time.Millisecond) // the loop takes the kick, blocks on mu
		p.kickRetry()
		p.kickRetry()
		p.mu.Unlock()
		if d := settled() - before; d != 1 {
			t.Fatalf("the retry loop looked %d times for kicks made before it held the lock, want 1", d)
		}
	}
}
