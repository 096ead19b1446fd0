package peerstore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/folio-p2p/folio/db"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A crash between writing a new generation's checkpoint and deleting the
// previous generation leaves both: Open must take the previous one (the
// new one may be partial) and delete the new one.
func TestOpenAfterCrashBetweenGenerations(t *testing.T) {
	ctx := context.Background()
	d := openDB(t, "")
	defer d.Close()
	ps := openPS(t, d, nil)
	ps.AddAddrs("p", addrsN(1), time.Hour)
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	// What the crash left: generation 1 begun, a checkpoint of 2 peers
	// with no chunk yet.
	partial, err := d.Book(ctx, genName("peerstore", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := partial.Append(ctx, checkpointPage(2, time.Now().UnixNano())); err != nil {
		t.Fatal(err)
	}
	ps2 := openPS(t, d, nil)
	if got := ps2.Journal().Name(); got != "peerstore" {
		t.Fatalf("opened journal %s, want the previous generation", got)
	}
	if len(ps2.Addrs("p")) != 1 {
		t.Fatalf("p's address lost")
	}
	if _, err := d.LookupName(genName("peerstore", 1)); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("the unfinished generation is still there: %v", err)
	}
	// The next checkpoint starts generation 1 afresh and drops 0.
	if err := ps2.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	names, _ := d.Names("peerstore")
	if want := []string{genName("peerstore", 1)}; !slices.Equal(names, want) {
		t.Fatalf("journal books %v, want %v", names, want)
	}
	auditOK(t, ps2)
	if err := ps2.Close(); err != nil {
		t.Fatal(err)
	}
	ps3 := openPS(t, d, nil)
	if len(ps3.Addrs(peer.ID("p"))) != 1 || ps3.Opened().Peers != 1 {
		t.Fatalf("after the checkpoint and a reopen: %+v", ps3.Opened())
	}
}

func TestJournalGeneration(t *testing.T) {
	for _, c := range []struct {
		name string
		gen  uint64
		ok   bool
	}{
		{"peerstore", 0, true}, {genName("peerstore", 1), 1, true}, {genName("peerstore", 0xabc), 0xabc, true},
		{"peerstore~1", 0, false}, {"peerstorex", 0, false}, {"peerstore~0000000000000000", 0, false},
		{"peerstore~zzzzzzzzzzzzzzzz", 0, false}, {"other", 0, false},
	} {
		g, ok := JournalGeneration("peerstore", c.name)
		if g != c.gen || ok != c.ok {
			t.Errorf("JournalGeneration(%q) = %d %v, want %d %v", c.name, g, ok, c.gen, c.ok)
		}
	}
}
