package peer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestSoloTask(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := openPeer(t, dir, "bob")
	id, err := p.CreateTask(ctx, "groceries", TaskID{})
	if err != nil {
		t.Fatal(err)
	}
	h1, err := p.Send(ctx, id, "milk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Edit(ctx, id, h1, "oat milk"); err != nil {
		t.Fatal(err)
	}
	sub, err := p.CreateTask(ctx, "bakery", id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Send(ctx, sub, "bread"); err != nil {
		t.Fatal(err)
	}
	ms, err := p.Timeline(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := texts(ms)
	if len(ms) != 3 || ms[1].Text != "oat milk" || !ms[1].Edited || ms[2].Update == nil {
		t.Fatalf("timeline %q", got)
	}
	if ts := p.Tasks(); len(ts) != 2 || ts[0].Title != "groceries" || ts[1].Parent != id {
		t.Fatalf("tasks %+v", ts)
	}
	p.Close()
	p2 := openPeer(t, dir, "")
	ms2, err := p2.Timeline(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(texts(ms2), got) {
		t.Fatalf("after reopen %q, want %q", texts(ms2), got)
	}
	if _, err := p2.Send(ctx, id, "eggs"); err != nil {
		t.Fatal(err)
	}
}

func TestInviteJoinChat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bob := openPeer(t, t.TempDir(), "bob")
	ana := openPeer(t, t.TempDir(), "ana")
	task, err := bob.CreateTask(ctx, "trip", TaskID{})
	if err != nil {
		t.Fatal(err)
	}
	code, err := bob.Invite(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ana.Join(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if got != task {
		t.Fatalf("joined %s, want %s", got, task)
	}
	// The same code again is refused, clearly.
	carol := openPeer(t, t.TempDir(), "carol")
	if _, err := carol.Join(ctx, code); !errors.Is(err, ErrInviteRefused) {
		t.Fatalf("reused invite: %v", err)
	}
	const n = 50
	for i := 0; i < n; i++ {
		if _, err := bob.Send(ctx, task, fmt.Sprintf("bob %d", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := ana.Send(ctx, task, fmt.Sprintf("ana %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// task update + join + 2n messages
	want := 2 + 2*n
	a := waitTimeline(t, ana, task, want, 30*time.Second)
	b := waitTimeline(t, bob, task, want, 30*time.Second)
	if !slices.Equal(texts(a), texts(b)) {
		t.Fatalf("timelines differ:\nana %q\nbob %q", texts(a), texts(b))
	}
	bk, _ := bob.Books(task)
	ak, _ := ana.Books(task)
	if len(bk) != 2 || len(ak) != 2 {
		t.Fatalf("books: bob %d ana %d, want 2 each", len(bk), len(ak))
	}
}
