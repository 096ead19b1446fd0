package book

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

// checkTreeExactly checks that b stores exactly the pages [0, length) of
// pages and exactly the parent nodes of that tree, all matching scratch.
func checkTreeExactly(t *testing.T, b *Book, pages [][]byte) {
	t.Helper()
	n := uint64(len(pages))
	want := scratchTree(pages)
	for _, idx := range keyIndices(t, b, tagNode) {
		if !within(idx, n) {
			t.Fatalf("length %d: node %d outside the tree is stored", n, idx)
		}
		if depth(idx) == 0 {
			t.Fatalf("length %d: leaf node record %d in a writable book", n, idx)
		}
		got, err := getNode(b.pdb, b.keys, idx)
		if err != nil || got != want[idx] {
			t.Fatalf("length %d: node %d = %v %v, want %v", n, idx, got, err, want[idx])
		}
	}
	if got, want := countKeys(t, b, tagNode), len(want)-len(pages); got != want {
		t.Fatalf("length %d: %d node records, want %d", n, got, want)
	}
	got := keyIndices(t, b, tagPage)
	if uint64(len(got)) != n {
		t.Fatalf("length %d: page records %v", n, got)
	}
	for i, p := range pages {
		v, err := b.Get(context.Background(), uint64(i), &GetOptions{LocalOnly: true})
		if err != nil || !bytes.Equal(v, p) {
			t.Fatalf("length %d: page %d = %q %v, want %q", n, i, v, err, p)
		}
	}
	if h := mustHead(t, b); h.TreeHash != TreeHash(scratchRoots(pages)) || h.Length != n {
		t.Fatalf("length %d: head differs from scratch", n)
	}
}

func TestTruncate(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	var truncs []TruncateInfo
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true, EventListener: &EventListener{
		Truncated: func(i TruncateInfo) { truncs = append(truncs, i) },
	}})
	pages := testPages(0, 20)
	mustAppend(t, w, pages...)
	sub := w.Subscribe()
	defer sub.Close()
	if err := w.Truncate(ctx, 13); err != nil {
		t.Fatal(err)
	}
	pages = pages[:13]
	var bl uint64
	for _, p := range pages {
		bl += uint64(len(p))
	}
	h, signed := w.Head()
	if !signed || h.Fork != 1 || h.Length != 13 || h.ByteLength != bl || w.Fork() != 1 {
		t.Fatalf("head after truncate %+v", h)
	}
	if err := h.Verify(w.Key()); err != nil {
		t.Fatalf("truncated head: %v", err)
	}
	if len(truncs) != 1 || truncs[0] != (TruncateInfo{Book: w.Name(), Fork: 1, Length: 13}) {
		t.Fatalf("truncated events %+v", truncs)
	}
	if u := <-sub.C; u != (Update{Length: 13, ByteLength: bl, Fork: 1}) {
		t.Fatalf("update %+v", u)
	}
	for i := uint64(13); i < 20; i++ {
		if ok, _ := w.Has(i); ok {
			t.Fatalf("page %d past the cut is still held", i)
		}
		if _, err := w.Get(ctx, i, &GetOptions{LocalOnly: true}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("page %d past the cut: %v", i, err)
		}
	}
	checkTreeExactly(t, w, pages)
	mustAudit(t, w)

	// append continues in the new fork
	res := mustAppend(t, w, []byte("after"), []byte("cut"))
	pages = append(pages, []byte("after"), []byte("cut"))
	if res.Length != 15 || w.Fork() != 1 {
		t.Fatalf("append after truncate: %+v fork %d", res, w.Fork())
	}
	checkTreeExactly(t, w, pages)
	mustAudit(t, w)

	// errors
	if err := w.Truncate(ctx, 16); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("truncate past the length: %v", err)
	}
	if w.Fork() != 1 || w.Length() != 15 {
		t.Fatal("refused truncate changed the book")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Truncate(cctx, 1); !errors.Is(err, context.Canceled) || w.Length() != 15 {
		t.Fatalf("cancelled truncate: %v", err)
	}

	// reopen sees the truncated, re-grown book
	w.Close()
	w2 := newWriter(t, pdb, "w/", 1, nil)
	if w2.Fork() != 1 || w2.Length() != 15 {
		t.Fatalf("reopened at %d/%d", w2.Length(), w2.Fork())
	}
	checkTreeExactly(t, w2, pages)
}

func TestTruncateToEveryLength(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	k := 0
	for _, n := range []int{1, 2, 3, 7, 8, 9, 16, 17, 33} {
		for cut := 0; cut <= n; cut++ {
			k++
			w := newWriter(t, pdb, fmt.Sprintf("w%05d/", k), 1, &Options{NoSync: true})
			// two batches, so the tree was built incrementally
			mustAppend(t, w, testPages(0, n/2)...)
			mustAppend(t, w, testPages(n/2, n)...)
			if err := w.Truncate(ctx, uint64(cut)); err != nil {
				t.Fatal(err)
			}
			checkTreeExactly(t, w, testPages(0, cut))
			mustAudit(t, w)
			// and again after a second truncate and regrowth
			mustAppend(t, w, testPages(50, 50+n-cut+1)...)
			want := append(testPages(0, cut), testPages(50, 50+n-cut+1)...)
			checkTreeExactly(t, w, want)
			if err := w.Truncate(ctx, uint64(cut/2)); err != nil {
				t.Fatal(err)
			}
			if w.Fork() != 2 {
				t.Fatalf("fork %d after two truncates", w.Fork())
			}
			checkTreeExactly(t, w, want[:cut/2])
			mustAudit(t, w)
			w.Close()
		}
	}
}

func TestTruncateAfterClear(t *testing.T) {
	// the roots of the cut come from leaf records that Clear kept
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 12)...)
	if err := w.Clear(ctx, 8, 12); err != nil {
		t.Fatal(err)
	}
	if err := w.Truncate(ctx, 9); err != nil { // roots 7 and 16 (cleared page 8)
		t.Fatal(err)
	}
	if h := mustHead(t, w); h.TreeHash != TreeHash(scratchRoots(testPages(0, 9))) {
		t.Fatal("truncated head over a cleared page differs from scratch")
	}
	for _, idx := range keyIndices(t, w, tagNode) {
		if !within(idx, 9) {
			t.Fatalf("node %d outside the tree kept", idx)
		}
	}
	mustAudit(t, w)
}
