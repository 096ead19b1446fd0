package peer

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestMarkReadAtAndSetName: the read marker moves up to a message shown,
// never back, and an unknown message is refused; a new name reaches the
// other member through a profile message.
func TestMarkReadAtAndSetName(t *testing.T) {
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
	if _, err := ana.Join(ctx, code); err != nil {
		t.Fatal(err)
	}
	var hs []Head
	for _, s := range []string{"one", "two", "three"} {
		h, err := bob.Send(ctx, task, s)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	waitTimeline(t, ana, task, 5, 30*time.Second) // task, join, three texts
	unread := func() int {
		n, err := ana.Unread(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := unread()
	if err := ana.MarkReadAt(ctx, task, hs[1]); err != nil {
		t.Fatal(err)
	}
	if n := unread(); n != 1 {
		t.Fatalf("unread after reading up to %q: %d (was %d), want 1", "two", n, before)
	}
	if err := ana.MarkReadAt(ctx, task, hs[0]); err != nil {
		t.Fatal(err)
	}
	if n := unread(); n != 1 {
		t.Fatalf("the marker went back: unread %d, want 1", n)
	}
	if err := ana.MarkReadAt(ctx, task, Head{Author: bob.ID(), Index: 99}); !errors.Is(err, ErrNoMessage) {
		t.Fatalf("MarkReadAt an unknown message: %v, want ErrNoMessage", err)
	}

	if err := bob.SetName(ctx, "Roberto"); err != nil {
		t.Fatal(err)
	}
	if err := bob.SetName(ctx, " "); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SetName(\" \"): %v, want ErrInvalid", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for ana.Name(ctx, bob.ID()) != "Roberto" {
		if time.Now().After(deadline) {
			t.Fatalf("ana calls bob %q, want Roberto", ana.Name(ctx, bob.ID()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := bob.Name(ctx, bob.ID()); got != "Roberto" {
		t.Fatalf("bob calls himself %q", got)
	}
}
