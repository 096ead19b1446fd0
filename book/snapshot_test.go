package book

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestSnapshotSurvivesAppendAndTruncate(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	const n = 21
	pages := testPages(0, n)
	mustAppend(t, w, pages[:10]...)
	mustAppend(t, w, pages[10:]...)
	headAtN := mustHead(t, w)
	snap, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()

	// the book moves on: more pages, then a truncate below the snapshot,
	// then other pages where the old ones were, then a clear
	mustAppend(t, w, testPages(100, 130)...)
	if err := w.Truncate(ctx, 5); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, testPages(200, 220)...)
	if err := w.Clear(ctx, 0, 3); err != nil {
		t.Fatal(err)
	}
	if w.Length() != 25 || w.Fork() != 1 {
		t.Fatalf("book at %d/%d", w.Length(), w.Fork())
	}

	if snap.Length() != n || snap.Fork() != 0 || snap.ByteLength() != headAtN.ByteLength || !headsEqual(snap.Head(), headAtN) {
		t.Fatalf("snapshot head moved: %+v", snap.Head())
	}
	for i := uint64(0); i < n; i++ {
		got, err := snap.Get(i)
		if err != nil || !bytes.Equal(got, pages[i]) {
			t.Fatalf("snapshot page %d = %q %v, want %q", i, got, err, pages[i])
		}
		if ok, err := snap.Has(i); !ok || err != nil {
			t.Fatalf("snapshot Has(%d) = %v %v", i, ok, err)
		}
	}
	if _, err := snap.Get(n); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snapshot page past its length: %v", err)
	}
	if ok, _ := snap.Has(n); ok {
		t.Fatal("snapshot Has past its length")
	}
	// the book itself sees the new pages
	if got, _ := w.Get(ctx, 7, &GetOptions{LocalOnly: true}); !bytes.Equal(got, testPage(202)) {
		t.Fatalf("book page 7 = %q", got)
	}

	// every page of the snapshot proves into a fresh reader at fork 0
	f := newReaderFactory(t, pdb, w)
	r := f.fresh()
	mustApply(t, r, mustProof(t, snap, ProofRequest{Upgrade: &UpgradeRequest{}}))
	if !headsEqual(mustHead(t, r), headAtN) {
		t.Fatal("snapshot's upgrade gives another head")
	}
	for i := uint64(0); i < n; i++ {
		mustApply(t, r, mustProof(t, snap, ProofRequest{Page: &PageRequest{Index: i}}))
		checkPageStored(t, r, i, pages[i])
	}
	mustAudit(t, r)
	// and the snapshot links an upgrade from an older length
	r2 := f.fresh()
	w2 := newWriter(t, openPebble(t), "w/", 1, &Options{NoSync: true})
	mustAppend(t, w2, pages[:10]...)
	mustApply(t, r2, mustProof(t, w2, ProofRequest{Upgrade: &UpgradeRequest{}}))
	mustApply(t, r2, mustProof(t, snap, ProofRequest{Upgrade: &UpgradeRequest{Start: 10}, Page: &PageRequest{Index: 15}}))
	if !headsEqual(mustHead(t, r2), headAtN) {
		t.Fatal("upgrade from the snapshot gives another head")
	}
	mustAudit(t, r2)

	// seek as of the snapshot
	var off uint64
	for i, p := range pages {
		if len(p) == 0 {
			continue
		}
		pg, rel, err := snap.Seek(ctx, off+uint64(len(p))-1)
		if err != nil || pg != uint64(i) || rel != uint64(len(p))-1 {
			t.Fatalf("snapshot seek to the end of page %d: %d %d %v", i, pg, rel, err)
		}
		off += uint64(len(p))
	}
	if _, _, err := snap.Seek(ctx, off); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("snapshot seek past its bytes: %v", err)
	}
}

func TestSnapshotOfEmptyBook(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, nil)
	snap, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	mustAppend(t, w, []byte("later"))
	if snap.Length() != 0 {
		t.Fatalf("snapshot length %d", snap.Length())
	}
	if _, err := snap.Proof(ProofRequest{Upgrade: &UpgradeRequest{}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("proof of a never-signed snapshot: %v", err)
	}
	if _, err := snap.Get(0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get from an empty snapshot: %v", err)
	}
}

func TestSnapshotIsolatedFromReaderFork(t *testing.T) {
	// a reader's snapshot keeps its pages while a new fork drops them
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 6)...)
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true})
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 2}}))
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if err := w.Truncate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	if ok, _ := r.Has(2); ok || r.Fork() != 1 {
		t.Fatal("reader kept the old fork's page")
	}
	if got, err := snap.Get(2); err != nil || !bytes.Equal(got, testPage(2)) {
		t.Fatalf("snapshot lost page 2: %q %v", got, err)
	}
	if snap.Fork() != 0 || snap.Length() != 6 {
		t.Fatalf("snapshot at %d/%d", snap.Length(), snap.Fork())
	}
}
