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
}
