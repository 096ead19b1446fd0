package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
)

const (
	bigPage  = 16 << 10
	bigPages = 20 << 20 / bigPage // 20 MiB
)

// fillBig appends 20 MiB of random (incompressible) pages to b.
func fillBig(t *testing.T, b *book.Book) {
	t.Helper()
	for range bigPages / 64 {
		pages := make([][]byte, 64)
		for i := range pages {
			pages[i] = make([]byte, bigPage)
			rand.Read(pages[i])
		}
		if _, err := b.Append(context.Background(), pages...); err != nil {
			t.Fatal(err)
		}
	}
}

// spaceDB opens a DB with a 20 MiB book "big" and a small book "keep",
// closes it (Close flushes) and opens it again, so the pages sit in
// sstables. It returns the pages of "keep".
func spaceDB(t *testing.T, dir string) (*DB, [][]byte) {
	t.Helper()
	ctx := context.Background()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	big, err := d.Book(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	fillBig(t, big)
	keep, err := d.Book(ctx, "keep")
	if err != nil {
		t.Fatal(err)
	}
	kept := faultPages("keep", 50, 100)
	if _, err := keep.Append(ctx, kept...); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return openTest(t, dir, nil), kept
}

// usage returns what Pebble reports it uses and what the directory holds.
func usage(t *testing.T, d *DB, dir string) (pebbleBytes, dirBytes uint64) {
	t.Helper()
	m, err := d.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // Pebble removed or replaced the file meanwhile
		}
		if err == nil {
			dirBytes += uint64(info.Size())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m.DiskUsage, dirBytes
}

// waitSpaceBelow waits (Pebble deletes obsolete files in the background)
// until both measures fall below limit, and fails if they do not.
func waitSpaceBelow(t *testing.T, d *DB, dir string, limit uint64, before [2]uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, f := usage(t, d, dir)
		if p < limit && f < limit {
			t.Logf("disk usage: Pebble %d → %d bytes, directory %d → %d bytes", before[0], p, before[1], f)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("space not given back: Pebble %d → %d bytes, directory %d → %d bytes, want both below %d",
				before[0], p, before[1], f, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkKept checks the small book is untouched.
func checkKept(t *testing.T, d *DB, kept [][]byte) {
	t.Helper()
	keep, err := d.Book(context.Background(), "keep")
	if err != nil {
		t.Fatal(err)
	}
	if keep.Length() != uint64(len(kept)) {
		t.Fatalf("keep: length %d, want %d", keep.Length(), len(kept))
	}
	for i, want := range kept {
		if p, err := keep.Get(context.Background(), uint64(i), nil); err != nil || !bytes.Equal(p, want) {
			t.Fatalf("keep: page %d: %q, %v", i, p, err)
		}
	}
	auditClean(t, keep)
}

func TestDeleteBookGivesSpaceBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, kept := spaceDB(t, dir)
	in, err := d.LookupName("big")
	if err != nil {
		t.Fatal(err)
	}
	p, f := usage(t, d, dir)
	if p < 20<<20 || f < 20<<20 {
		t.Fatalf("before deleting: Pebble uses %d bytes, the directory holds %d; want at least 20 MiB", p, f)
	}
	if err := d.DeleteBook(ctx, in.Key); err != nil {
		t.Fatal(err)
	}
	waitSpaceBelow(t, d, dir, 4<<20, [2]uint64{p, f})

	if _, err := d.Info(in.Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Info of a deleted book: %v, want ErrNotFound", err)
	}
	if _, err := d.LookupName("big"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LookupName of a deleted book: %v, want ErrNotFound", err)
	}
	if _, err := d.LookupDiscoveryKey(in.DiscoveryKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LookupDiscoveryKey of a deleted book: %v, want ErrNotFound", err)
	}
	if err := d.DeleteBook(ctx, in.Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting twice: %v, want ErrNotFound", err)
	}
	infos, err := d.Books()
	if err != nil || len(infos) != 1 || infos[0].Name != "keep" {
		t.Fatalf("catalogue after delete: %v, %v; want only keep", infos, err)
	}
	m, err := d.Metrics()
	if err != nil || m.Books != 1 {
		t.Fatalf("metrics after delete: %+v, %v", m, err)
	}
	checkKept(t, d, kept)
	// The name derives the same key again, for a new, empty book.
	big, err := d.Book(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if !big.Key().Equal(in.Key) || big.Length() != 0 || big.Fork() != 0 {
		t.Fatalf("big again: key %x length %d fork %d", big.Key()[:8], big.Length(), big.Fork())
	}
	if has, err := big.Has(0); has || err != nil {
		t.Fatalf("big again: Has(0) = %v, %v", has, err)
	}
	auditClean(t, big)
}

func TestClearGivesSpaceBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, kept := spaceDB(t, dir)
	big, err := d.Book(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	n := big.Length()
	h, _ := big.Head()
	last := make([][]byte, 10)
	for i := range last {
		if last[i], err = big.Get(ctx, n-10+uint64(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	p, f := usage(t, d, dir)
	if err := d.Clear(ctx, big.Key(), 0, n-10); err != nil {
		t.Fatal(err)
	}
	waitSpaceBelow(t, d, dir, 4<<20, [2]uint64{p, f})

	// Cleared pages are gone; the head and the last pages are not.
	h2, _ := big.Head()
	if h2.Length != h.Length || h2.ByteLength != h.ByteLength || h2.TreeHash != h.TreeHash || h2.Fork != h.Fork {
		t.Fatalf("Clear changed the head: %+v → %+v", h, h2)
	}
	for _, i := range []uint64{0, 1, n / 2, n - 11} {
		if has, err := big.Has(i); has || err != nil {
			t.Fatalf("cleared page %d: Has = %v, %v", i, has, err)
		}
		if _, err := big.Get(ctx, i, &book.GetOptions{LocalOnly: true}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("cleared page %d: Get: %v, want ErrNotFound", i, err)
		}
	}
	for i, want := range last {
		if p, err := big.Get(ctx, n-10+uint64(i), nil); err != nil || !bytes.Equal(p, want) {
			t.Fatalf("page %d after Clear: %d bytes, %v", n-10+uint64(i), len(p), err)
		}
	}
	// A reader that knows only the key still verifies the remaining pages:
	// Clear kept the tree.
	if _, _, err := big.Seek(ctx, h.ByteLength-1); err != nil {
		t.Fatalf("Seek after Clear: %v", err)
	}
	proof, err := big.Proof(book.ProofRequest{Page: &book.PageRequest{Index: n - 1}, Upgrade: &book.UpgradeRequest{}})
	if err != nil {
		t.Fatalf("proof of page %d after Clear: %v", n-1, err)
	}
	reader, err := openTest(t, t.TempDir(), nil).OpenKey(ctx, big.Key())
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.ApplyProof(ctx, proof); err != nil {
		t.Fatalf("reader: proof of page %d after Clear: %v", n-1, err)
	}
	if p, err := reader.Get(ctx, n-1, nil); err != nil || !bytes.Equal(p, last[9]) || reader.Length() != n {
		t.Fatalf("reader: page %d: %d bytes, %v; length %d", n-1, len(p), err, reader.Length())
	}
	if _, err := big.Proof(book.ProofRequest{Page: &book.PageRequest{Index: 0}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("proof of a cleared page: %v, want ErrNotFound", err)
	}
	auditClean(t, big)
	checkKept(t, d, kept)
}
