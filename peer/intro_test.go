package peer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/vault"
)

// shakes counts one peer's handshakes: full ones (with the books they
// restate) and brief introductions.
type shakes struct {
	mu             sync.Mutex
	full, restated int
	brief          int
}

func (s *shakes) listener() *vault.EventListener {
	return &vault.EventListener{Handshaken: func(h folioio.Handshake) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if h.Brief {
			s.brief++
			return
		}
		s.full++
		s.restated += len(h.Shared)
	}}
}

func (s *shakes) counts() (full, restated, brief int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full, s.restated, s.brief
}

// TestNewTaskIntroducedBriefly: two peers already connected, sharing
// tasks, add one more. Its introductions (the join's, the welcome's)
// travel alone on the connection; no handshake restates the books of
// the tasks they share already, so a task's cost does not grow with the
// tasks before it. The new task works both ways.
func TestNewTaskIntroducedBriefly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var sb, sa shakes
	open := func(name string, s *shakes) *Peer {
		o := testOptions(name)
		o.Vault.Listener = s.listener()
		p, err := Open(ctx, t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	bob, ana := open("bob", &sb), open("ana", &sa)
	join := func(title string) TaskID {
		task, code := newInvite(ctx, t, bob, title)
		if _, err := ana.Join(ctx, code); err != nil {
			t.Fatal(err)
		}
		return task
	}
	for _, title := range []string{"one", "two", "three", "four"} {
		join(title)
	}
	if full, _, _ := sb.counts(); full == 0 {
		t.Fatal("bob saw no handshake with ana: the test proves nothing")
	}
	bFull, bRestated, bBrief := sb.counts()
	aFull, aRestated, aBrief := sa.counts()

	task := join("five")
	for _, s := range []struct {
		from, to *Peer
		text     string
	}{{bob, ana, "from bob"}, {ana, bob, "from ana"}} {
		if _, err := s.from.Send(ctx, task, s.text); err != nil {
			t.Fatal(err)
		}
	}
	// The task's creation, ana's join, and the two messages.
	for _, p := range []*Peer{bob, ana} {
		waitTimeline(t, p, task, 4, 60*time.Second)
	}
	for _, c := range []struct {
		who                   string
		s                     *shakes
		full, restated, brief int
	}{{"bob", &sb, bFull, bRestated, bBrief}, {"ana", &sa, aFull, aRestated, aBrief}} {
		full, restated, brief := c.s.counts()
		if full != c.full {
			t.Errorf("%s: %d full handshakes for the fifth task, restating %d books; want none", c.who, full-c.full, restated-c.restated)
		}
		if brief-c.brief < 2 {
			t.Errorf("%s: %d brief introductions for the fifth task, want 2 (the join's and the welcome's)", c.who, brief-c.brief)
		}
	}
}

// TestRestartIntroducesOncePerMember: after a restart a peer introduces
// itself to each member peer once (its addresses may have changed), and
// the connection's handshake acks its books of every other task it
// shares with that peer, so the retry loop does not introduce them
// again, one task at a time. Counted at the member: the books it was
// introduced to after the restart.
func TestRestartIntroducesOncePerMember(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var introduced struct {
		sync.Mutex
		n int
	}
	o := testOptions("bob")
	o.Vault.Listener = &vault.EventListener{Handshaken: func(h folioio.Handshake) {
		introduced.Lock()
		introduced.n += len(h.Introduced)
		introduced.Unlock()
	}}
	bob, err := Open(ctx, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	anaDir := t.TempDir()
	ana, err := Open(ctx, anaDir, testOptions("ana"))
	if err != nil {
		t.Fatal(err)
	}
	const tasks = 6
	var last TaskID
	for i := range tasks {
		task, code := newInvite(ctx, t, bob, fmt.Sprint("task ", i))
		if _, err := ana.Join(ctx, code); err != nil {
			t.Fatal(err)
		}
		last = task
	}
	ana.Close()
	introduced.Lock()
	before := introduced.n
	introduced.Unlock()
	ana, err = Open(ctx, anaDir, testOptions("ana"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ana.Close() })
	if _, err := ana.Send(ctx, last, "back"); err != nil {
		t.Fatal(err)
	}
	waitTimeline(t, bob, last, 3, 60*time.Second) // the task, ana's join, "back"
	// Long enough for the retry loop (Retry 200 ms) to go round 10 times.
	time.Sleep(2 * time.Second)
	introduced.Lock()
	n := introduced.n - before
	introduced.Unlock()
	if n < 1 || n > 2 {
		t.Fatalf("bob was introduced to %d books after ana's restart; want 1 (2 if a retry crossed it), not one per task (%d)", n, tasks)
	}
}
