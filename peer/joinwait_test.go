package peer

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
)

// TestJoinWaitsForStepsNotAClock: the inviter is held up (its lock taken)
// after it accepted the newcomer's introduction, so the newcomer's Join
// waits for the inviter's book for a while. Join looks at its task again
// at each step there (the introduction handled, pages read), not on a
// clock: a few looks in all, however long the wait. Before, it looked
// (and had the watcher read every log of the task) every 10 ms: about 30
// looks over the 300 ms hold.
func TestJoinWaitsForStepsNotAClock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ana := openPeer(t, t.TempDir(), "ana")
	o := testOptions("bo")
	o.Retry = time.Minute // no looks on the fallback tick
	bo, err := Open(ctx, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bo.Close() })
	task, code := newInvite(ctx, t, ana, "steps")

	ana.mu.Lock() // accept does not take it; the welcome waits for it
	done := joinAsync(ctx, bo, code)
	for bo.joinLooks.Load() == 0 {
		select {
		case err := <-done:
			ana.mu.Unlock()
			t.Fatalf("Join returned before the inviter could welcome: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	time.Sleep(300 * time.Millisecond) // a hold, not a measure
	held := bo.joinLooks.Load()
	ana.mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	looks := bo.joinLooks.Load()
	t.Logf("looks: %d while the inviter was held, %d in all", held, looks)
	if held != 1 {
		t.Errorf("Join looked %d times while nothing happened in its task, want 1", held)
	}
	// The introduction handled, then the pages of the inviter's book:
	// one step each, or a few when its pages arrive in pieces.
	if looks > 6 {
		t.Errorf("Join looked %d times in all, want at most 6 (one per step in the task)", looks)
	}
	if _, err := bo.Send(ctx, task, "hello"); err != nil {
		t.Fatal(err)
	}
	waitTimeline(t, ana, task, 3, 30*time.Second)
}

// TestWelcomeWritesNewBookInOneAppend: the inviter's book for a newcomer
// is made with its Address page and the task's history in one append
// (one sync on the newcomer's path), not one for the Address page and
// one more for the history.
func TestWelcomeWritesNewBookInOneAppend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	appends := map[string][]book.AppendInfo{}
	o := testOptions("ana")
	o.Vault.DB = &db.Options{EventListener: &book.EventListener{Appended: func(in book.AppendInfo) {
		mu.Lock()
		appends[in.Book] = append(appends[in.Book], in)
		mu.Unlock()
	}}}
	ana, err := Open(ctx, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ana.Close() })
	bo := openPeer(t, t.TempDir(), "bo")
	task, code := newInvite(ctx, t, ana, "one append")
	for _, s := range []string{"a", "b", "c"} {
		if _, err := ana.Send(ctx, task, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bo.Join(ctx, code); err != nil {
		t.Fatal(err)
	}
	waitTimeline(t, bo, task, 5, 30*time.Second) // creation, a, b, c, bo's join
	ana.mu.Lock()
	b := ana.roots[task].myBooks[bo.ID()]
	ana.mu.Unlock()
	if b == nil {
		t.Fatal("ana has no book for bo")
	}
	mu.Lock()
	got := appends[b.Name()]
	mu.Unlock()
	// Address, creation, a, b, c in the first append; the join message next.
	if len(got) != 2 || got[0].Start != 0 || got[0].Length != 5 || got[1].Length != 6 {
		t.Fatalf("appends to ana's book for bo: %+v, want [0→5, 5→6]", got)
	}
}
