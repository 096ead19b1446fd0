package peer

import (
	"context"
	"testing"
	"time"
)

// TestOfferOnlyToMembers: a peer met by chance is offered no book; a
// member is offered exactly the two pair books of the task.
func TestOfferOnlyToMembers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bob := openPeer(t, t.TempDir(), "bob")
	ana := openPeer(t, t.TempDir(), "ana")
	eve := openPeer(t, t.TempDir(), "eve")
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
	if err := eve.Vault().Connect(bob.Vault().AddrInfo()); err != nil {
		t.Fatal(err)
	}
	h, err := eve.Vault().Swarm().Handshake(ctx, bob.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Shared) != 0 {
		t.Fatalf("eve shares %d books with bob", len(h.Shared))
	}
	if n := len(bob.offerTo(eve.ID())); n != 0 {
		t.Fatalf("bob offers eve %d books", n)
	}
	h, err = ana.Vault().Swarm().Handshake(ctx, bob.ID())
	if err != nil {
		t.Fatal(err)
	}
	books, _ := ana.Books(task)
	if len(h.Shared) != 2 || len(books) != 2 {
		t.Fatalf("ana shares %d books with bob, holds %d; want 2 and 2", len(h.Shared), len(books))
	}
	for _, s := range h.Shared {
		found := false
		for _, k := range books {
			found = found || string(k) == string(s.Key)
		}
		if !found {
			t.Fatalf("shared book %x is not a pair book of the task", s.Key[:8])
		}
	}
}
