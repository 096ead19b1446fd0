package book

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestGetAndHas(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	pages := testPages(0, 30)
	pages[3] = nil // empty pages are pages
	pages[4] = bytes.Repeat([]byte{0xff}, 1000)
	mustAppend(t, w, pages...)
	for i, p := range pages {
		for _, o := range []*GetOptions{nil, {}, {LocalOnly: true}} {
			got, err := w.Get(ctx, uint64(i), o)
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("Get(%d, %+v) = %q %v, want %q", i, o, got, err, p)
			}
		}
		if ok, err := w.Has(uint64(i)); !ok || err != nil {
			t.Fatalf("Has(%d) = %v %v", i, ok, err)
		}
	}
	if got, err := w.Get(ctx, 3, &GetOptions{LocalOnly: true}); err != nil || len(got) != 0 {
		t.Fatalf("empty page read as %#v, %v", got, err)
	}
	// the caller owns what Get returns
	got, _ := w.Get(ctx, 4, nil)
	got[0] = 0
	if again, _ := w.Get(ctx, 4, nil); again[0] != 0xff {
		t.Fatal("Get returned memory the book still uses")
	}
	for _, i := range []uint64{30, 31, 1000, 1 << 62} {
		if ok, err := w.Has(i); ok || err != nil {
			t.Fatalf("Has(%d) past the length = %v %v", i, ok, err)
		}
		if _, err := w.Get(ctx, i, &GetOptions{LocalOnly: true}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%d) LocalOnly past the length: %v, want ErrNotFound", i, err)
		}
	}
	// a page record left past the signed length is not part of the book
	rawSet(t, pdb, w.keys.page(30), append(make([]byte, HashSize), 'x'))
	if ok, _ := w.Has(30); ok {
		t.Fatal("Has reports a record past the signed length")
	}
	if _, err := w.Get(ctx, 30, &GetOptions{LocalOnly: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a record past the signed length: %v", err)
	}
}

func TestGetLocalOnlyOnReader(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 10)...)
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true})
	if _, err := r.Get(ctx, 0, &GetOptions{LocalOnly: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty reader: %v", err)
	}
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 6}}))
	for i := uint64(0); i < 10; i++ {
		got, err := r.Get(ctx, i, &GetOptions{LocalOnly: true})
		if i == 6 {
			if err != nil || !bytes.Equal(got, testPage(6)) {
				t.Fatalf("page 6: %q %v", got, err)
			}
			continue
		}
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("page %d not held: %v, want ErrNotFound", i, err)
		}
	}
	// without LocalOnly a missing page waits: a short deadline ends it
	dctx, cancel := context.WithTimeout(ctx, briefly)
	defer cancel()
	if _, err := r.Get(dctx, 2, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get of a missing page: %v", err)
	}
}

// seekModel finds the page holding byte off by walking the pages.
func seekModel(pages [][]byte, off uint64) (uint64, uint64, bool) {
	var start uint64
	for i, p := range pages {
		if off < start+uint64(len(p)) {
			return uint64(i), off - start, true
		}
		start += uint64(len(p))
	}
	return 0, 0, false
}

func TestSeek(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	if _, _, err := w.Seek(ctx, 0); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("seek in an empty book: %v", err)
	}
	// only empty pages: no byte to seek to
	mustAppend(t, w, nil, nil, []byte{})
	if _, _, err := w.Seek(ctx, 0); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("seek in a book of empty pages: %v", err)
	}
	pages := [][]byte{nil, nil, {}}
	rng := rand.New(rand.NewPCG(11, 12))
	for len(pages) < 150 {
		k := rng.IntN(7) + 1
		batch := make([][]byte, k)
		for i := range batch {
			if rng.IntN(3) > 0 { // a third of the pages are empty
				batch[i] = bytes.Repeat([]byte{byte(len(pages) + i)}, rng.IntN(9)+1)
			}
		}
		mustAppend(t, w, batch...)
		pages = append(pages, batch...)
		bl := w.ByteLength()
		for off := uint64(0); off < bl; off++ {
			page, rel, err := w.Seek(ctx, off)
			wp, wr, ok := seekModel(pages, off)
			if err != nil || !ok || page != wp || rel != wr {
				t.Fatalf("length %d: Seek(%d) = %d, %d, %v; want %d, %d", len(pages), off, page, rel, err, wp, wr)
			}
			if len(pages[page]) == 0 {
				t.Fatalf("Seek(%d) landed on empty page %d", off, page)
			}
		}
		for _, off := range []uint64{bl, bl + 1, 1 << 63} {
			if _, _, err := w.Seek(ctx, off); !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("Seek(%d) with byte length %d: %v, want ErrOutOfRange", off, bl, err)
			}
		}
	}
	// seek on a reader that has the nodes (all pages proven)
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true})
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	for i := range pages {
		mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: uint64(i)}}))
	}
	for off := uint64(0); off < w.ByteLength(); off += 3 {
		wp, wr, _ := seekModel(pages, off)
		if page, rel, err := r.Seek(ctx, off); err != nil || page != wp || rel != wr {
			t.Fatalf("reader Seek(%d) = %d, %d, %v; want %d, %d", off, page, rel, err, wp, wr)
		}
	}
}

func TestSeekOnSparseReader(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 16)...)
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true})
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	// only the root is known: the path down is missing
	if _, _, err := r.Seek(ctx, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("seek without the nodes: %v, want ErrNotFound", err)
	}
	// a page proof brings its path: seeking into that page now works
	mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 0}}))
	if page, rel, err := r.Seek(ctx, 1); err != nil || page != 0 || rel != 1 {
		t.Fatalf("seek into the proven page: %d %d %v", page, rel, err)
	}
}

func TestClear(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	pages := testPages(0, 20)
	mustAppend(t, w, pages...)
	before := mustHead(t, w)
	if err := w.Clear(ctx, 5, 9); err != nil {
		t.Fatal(err)
	}
	if !headsEqual(before, mustHead(t, w)) {
		t.Fatal("clear changed the head")
	}
	for i := uint64(0); i < 20; i++ {
		cleared := i >= 5 && i < 9
		ok, err := w.Has(i)
		if err != nil || ok == cleared {
			t.Fatalf("Has(%d) = %v %v after clearing [5, 9)", i, ok, err)
		}
		got, err := w.Get(ctx, i, &GetOptions{LocalOnly: true})
		if cleared != errors.Is(err, ErrNotFound) || (!cleared && !bytes.Equal(got, pages[i])) {
			t.Fatalf("Get(%d) = %q %v after clearing [5, 9)", i, got, err)
		}
	}
	if _, err := w.Proof(ProofRequest{Page: &PageRequest{Index: 6}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("proof of a cleared page: %v", err)
	}
	mustAudit(t, w)

	// every other page still proves, including neighbours whose paths
	// need the cleared pages' leaf hashes
	f := newReaderFactory(t, pdb, w)
	r := f.fresh()
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	for i := uint64(0); i < 20; i++ {
		if i >= 5 && i < 9 {
			continue
		}
		mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i}}))
		checkPageStored(t, r, i, pages[i])
	}
	mustAudit(t, r)
	// seek still finds cleared pages by size
	var off uint64
	for i := 0; i < 7; i++ {
		off += uint64(len(pages[i]))
	}
	if page, rel, err := w.Seek(ctx, off); err != nil || page != 7 || rel != 0 {
		t.Fatalf("seek to the start of cleared page 7: %d %d %v", page, rel, err)
	}

	// the writer keeps appending and proving over the cleared range
	mustAppend(t, w, testPages(20, 40)...)
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{Start: 20}, Page: &PageRequest{Index: 33}}))
	mustAudit(t, w)
	mustAudit(t, r)

	// a reader can clear too, and take the page back by proof
	if err := r.Clear(ctx, 0, 3); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.Has(1); ok {
		t.Fatal("reader still has a cleared page")
	}
	mustAudit(t, r)
	mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 1}}))
	checkPageStored(t, r, 1, pages[1])
	mustAudit(t, r)

	// clamps and no-ops
	if err := w.Clear(ctx, 38, 1000); err != nil {
		t.Fatal(err)
	}
	if ok, _ := w.Has(37); !ok {
		t.Fatal("clear past the end removed page 37")
	}
	if ok, _ := w.Has(38); ok {
		t.Fatal("page 38 not cleared")
	}
	if err := w.Clear(ctx, 10, 10); err != nil {
		t.Fatal(err)
	}
	if err := w.Clear(ctx, 12, 11); err != nil {
		t.Fatal(err)
	}
	if ok, _ := w.Has(10); !ok {
		t.Fatal("empty range cleared a page")
	}
	if err := w.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	mustAudit(t, w)
	if w.Length() != 40 {
		t.Fatalf("length %d after clears", w.Length())
	}
}

func TestClearWholeBookThenReopen(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 9)...)
	if err := w.Clear(ctx, 0, 9); err != nil {
		t.Fatal(err)
	}
	if countKeys(t, w, tagPage) != 0 {
		t.Fatal("page records left after clearing everything")
	}
	mustAudit(t, w)
	w.Close()
	w2 := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	if w2.Length() != 9 {
		t.Fatalf("length %d after reopen", w2.Length())
	}
	mustAppend(t, w2, testPage(9))
	if w2.ByteLength() != uint64(len(bytes.Join(testPages(0, 10), nil))) {
		t.Fatalf("byte length %d", w2.ByteLength())
	}
	if mustHead(t, w2).TreeHash != TreeHash(scratchRoots(testPages(0, 10))) {
		t.Fatal("append after clearing every page gives another tree")
	}
	mustAudit(t, w2)
}
