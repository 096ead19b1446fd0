package book

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// A batch prepared in chunks on several workers, joined to the head with
// mergeTops, gives exactly the tree built from scratch, and its batch holds
// exactly the page records and the parents inside the batch's whole
// subtrees (each once): for starts on and off chunk boundaries, batches
// smaller and larger than a chunk, in one goroutine and on several.
func TestPrepareMatchesScratchTree(t *testing.T) {
	pdb := openPebble(t)
	k := keys{prefix: []byte("p/")}
	rng := rand.New(rand.NewPCG(15, 9))
	pages := testPages(0, 700)
	for trial := range 60 {
		start := rng.IntN(300)
		if trial%4 == 0 {
			start = prepChunk * rng.IntN(4)
		}
		n := 1 + rng.IntN(400)
		workers := 1 + trial%4
		h, _ := grow(&Head{TreeHash: TreeHash(nil)}, hashLeaves(pages[:start]))
		// parallelBytes 1: every batch of two chunks or more is hashed on the workers.
		pr := prepareWith(pdb, k, uint64(start), pages[start:start+n], 1, workers)
		nh, joins := mergeTops(h, pr.tops, uint64(n))
		want := scratchTree(pages[:start+n])
		inner := checkPageRecords(t, pr, k, pages[start:start+n], uint64(start))
		for i := 1; i < len(inner); i++ {
			if inner[i].Index <= inner[i-1].Index { // in key order, for the memtable insert
				t.Fatalf("start %d n %d: node records out of order: %d after %d", start, n, inner[i].Index, inner[i-1].Index)
			}
		}
		seen := make(map[uint64]bool)
		for _, p := range append(inner, joins...) {
			if want[p.Index] != p {
				t.Fatalf("start %d n %d workers %d: parent %v, scratch has %v", start, n, workers, p, want[p.Index])
			}
			if within(p.Index, uint64(start)) || seen[p.Index] {
				t.Fatalf("start %d n %d: node %d made twice or already in the tree", start, n, p.Index)
			}
			seen[p.Index] = true
		}
		newParents := 0
		for idx := range want {
			if depth(idx) > 0 && !within(idx, uint64(start)) {
				newParents++
			}
		}
		if len(seen) != newParents {
			t.Fatalf("start %d n %d: %d new parents, want %d", start, n, len(seen), newParents)
		}
		for i, l := range pr.leaves {
			if want[l.Index] != l || l.Index != 2*uint64(start+i) {
				t.Fatalf("start %d n %d: leaf %d is %v, want %v", start, n, i, l, want[2*uint64(start+i)])
			}
		}
		roots := scratchRoots(pages[:start+n])
		if len(nh.Roots) != len(roots) || nh.Length != uint64(start+n) || nh.TreeHash != TreeHash(roots) {
			t.Fatalf("start %d n %d: head %+v, want roots %v", start, n, nh, roots)
		}
		if err := nh.checkShape(); err != nil {
			t.Fatal(err)
		}
		pr.close()
	}
}

// checkPageRecords reads pr's batch back: one record per page, in order,
// each the page's key and leaf hash ‖ page, and node records between them,
// which it returns (in batch order).
func checkPageRecords(t *testing.T, pr *prepared, k keys, pages [][]byte, start uint64) []Node {
	t.Helper()
	r := pr.batch.Reader()
	var nodes []Node
	i := 0
	for {
		_, key, val, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if len(key) == len(k.node(0)) && bytes.Equal(key[:len(key)-8], k.node(0)[:len(key)-8]) {
			n, err := decodeNodeValue(keyIndex(key), val)
			if err != nil {
				t.Fatal(err)
			}
			nodes = append(nodes, n)
			continue
		}
		if i >= len(pages) {
			t.Fatalf("extra record %x", key)
		}
		leaf := LeafHash(pages[i])
		if !bytes.Equal(key, k.page(start+uint64(i))) || !bytes.Equal(val[:HashSize], leaf[:]) || !bytes.Equal(val[HashSize:], pages[i]) {
			t.Fatalf("record %d: key %x value %x", i, key, val)
		}
		i++
	}
	if i != len(pages) {
		t.Fatalf("%d page records, want %d", i, len(pages))
	}
	return nodes
}

// A batch prepared at one length and committed at another (another writer
// appended in between) is rebuilt under the lock: both appends land whole,
// in commit order, and the audit is clean.
func TestStalePreparedIsRebuilt(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	b := newWriter(t, pdb, "s/", 4, &Options{NoSync: true})
	first, second := testPages(0, 300), testPages(300, 310)
	pr := prepareWith(b.pdb, b.keys, 0, first, 1, 2) // prepared at length 0
	if _, err := b.Append(ctx, second...); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	res, err := b.commitLocked(AppendOptions{}, pr)
	b.mu.Unlock()
	if err != nil || res.Length != 310 {
		t.Fatalf("stale commit: %+v %v", res, err)
	}
	want := append(append([][]byte(nil), second...), first...)
	for i, p := range want {
		got, err := b.Get(ctx, uint64(i), &GetOptions{LocalOnly: true})
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("page %d: %q %v, want %q", i, got, err, p)
		}
	}
	if h, _ := b.Head(); h.TreeHash != TreeHash(scratchRoots(want)) {
		t.Fatalf("tree hash does not match the pages")
	}
	if rep, err := b.Audit(ctx); err != nil || !rep.OK() {
		t.Fatalf("audit: %v %v", err, rep.Problems)
	}
}

// Writers appending large batches at once: whichever prepared batches
// turn out stale are rebuilt, and the book ends whole and consistent.
func TestConcurrentLargeAppends(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	b := newWriter(t, pdb, "c/", 3, &Options{NoSync: true})
	const writers, each, batch = 4, 6, 150
	big := func(w, i, j int) []byte { return fmt.Appendf(bytes.Repeat([]byte{byte(w)}, 2000), "%d/%d/%d", w, i, j) }
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				pages := make([][]byte, batch)
				for j := range pages {
					pages[j] = big(w, i, j)
				}
				if _, err := b.Append(ctx, pages...); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if b.Length() != writers*each*batch {
		t.Fatalf("length %d, want %d", b.Length(), writers*each*batch)
	}
	all := make([][]byte, 0, b.Length())
	for i := range b.Length() {
		p, err := b.Get(ctx, i, &GetOptions{LocalOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
	}
	h, _ := b.Head()
	roots := scratchRoots(all)
	if h.TreeHash != TreeHash(roots) {
		t.Fatalf("tree hash does not match the pages read back")
	}
	rep, err := b.Audit(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("audit: %v %v", err, rep.Problems)
	}
}
