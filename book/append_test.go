package book

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// ---- helpers shared by the tests of this package ----

// testPage returns a deterministic page of a varying size (some empty).
func testPage(i int) []byte {
	n := (i*7 + 3) % 23
	if i%5 == 4 {
		n = 0
	}
	return bytes.Repeat([]byte{byte('a' + i%26)}, n)
}

func testPages(from, to int) [][]byte {
	out := make([][]byte, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, testPage(i))
	}
	return out
}

func mustAppend(t testing.TB, b *Book, pages ...[]byte) AppendResult {
	t.Helper()
	res, err := b.Append(context.Background(), pages...)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res
}

// mustAudit fails the test unless b audits clean.
func mustAudit(t testing.TB, b *Book) *AuditReport {
	t.Helper()
	rep, err := b.Audit(context.Background())
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if !rep.OK() || rep.Err() != nil {
		t.Fatalf("audit of %s (length %d): %v", b.Name(), b.Length(), rep.Problems)
	}
	return rep
}

// scratchTree computes every node of the tree over pages from scratch,
// bottom up, without grow.
func scratchTree(pages [][]byte) map[uint64]Node {
	nodes := make(map[uint64]Node)
	n := uint64(len(pages))
	for i, p := range pages {
		nodes[2*uint64(i)] = leafNode(uint64(i), p)
	}
	for d := uint64(1); d < 64 && uint64(1)<<d <= n; d++ {
		for off := uint64(0); ; off++ {
			idx := nodeIndex(d, off)
			if !within(idx, n) {
				break
			}
			l, r, _ := children(idx)
			nodes[idx] = Node{Index: idx, Size: nodes[l].Size + nodes[r].Size, Hash: ParentHash(nodes[l], nodes[r])}
		}
	}
	return nodes
}

// scratchRoots returns the roots of the tree over pages, from scratch.
func scratchRoots(pages [][]byte) []Node {
	all := scratchTree(pages)
	var out []Node
	for _, idx := range fullRoots(uint64(len(pages))) {
		out = append(out, all[idx])
	}
	return out
}

func headsEqual(a, b *Head) bool {
	if a.Fork != b.Fork || a.Length != b.Length || a.ByteLength != b.ByteLength ||
		a.TreeHash != b.TreeHash || a.Signature != b.Signature || len(a.Roots) != len(b.Roots) {
		return false
	}
	for i := range a.Roots {
		if a.Roots[i] != b.Roots[i] {
			return false
		}
	}
	return true
}

func mustHead(t testing.TB, b *Book) *Head {
	t.Helper()
	h, _ := b.Head()
	return h
}

// countKeys counts the keys of one tag of a book.
func countKeys(t testing.TB, b *Book, tag byte) int {
	t.Helper()
	start, end := b.keys.span(tag)
	it, err := b.pdb.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n
}

// keyIndices lists the indices stored under one tag of a book.
func keyIndices(t testing.TB, b *Book, tag byte) []uint64 {
	t.Helper()
	start, end := b.keys.span(tag)
	it, err := b.pdb.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []uint64
	for it.First(); it.Valid(); it.Next() {
		out = append(out, keyIndex(it.Key()))
	}
	return out
}

func seedKey(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	s := bytes.Repeat([]byte{seed}, ed25519.SeedSize)
	sk := ed25519.NewKeyFromSeed(s)
	return sk.Public().(ed25519.PublicKey), sk
}

// ---- grow, the pure core of Append ----

func TestGrowMatchesScratch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 40; trial++ {
		total := rng.IntN(300) + 1
		pages := make([][]byte, total)
		for i := range pages {
			pages[i] = make([]byte, rng.IntN(40))
			for j := range pages[i] {
				pages[i][j] = byte(rng.Uint32())
			}
		}
		h := &Head{TreeHash: TreeHash(nil)}
		seen := make(map[uint64]Node)
		for done := 0; done < total; {
			k := min(total-done, rng.IntN(20)+1)
			batch := pages[done : done+k]
			nh, parents := grow(h, hashLeaves(batch))
			want := scratchTree(pages[:done+k])
			for _, p := range parents {
				if depth(p.Index) == 0 {
					t.Fatalf("grow returned leaf %v as a parent", p)
				}
				if want[p.Index] != p {
					t.Fatalf("grow parent %v, scratch has %v", p, want[p.Index])
				}
				if within(p.Index, uint64(done)) {
					t.Fatalf("grow recomputed old node %v (old length %d)", p, done)
				}
				if _, dup := seen[p.Index]; dup {
					t.Fatalf("grow returned node %d twice", p.Index)
				}
				seen[p.Index] = p
			}
			done += k
			// every parent of the new tree came back exactly once overall
			wantParents := done - bits.OnesCount(uint(done))
			if len(seen) != wantParents {
				t.Fatalf("after %d pages grow returned %d parents, want %d", done, len(seen), wantParents)
			}
			roots := scratchRoots(pages[:done])
			if len(nh.Roots) != len(roots) {
				t.Fatalf("length %d: %d roots, want %d", done, len(nh.Roots), len(roots))
			}
			var bl uint64
			for i := range roots {
				if nh.Roots[i] != roots[i] {
					t.Fatalf("length %d: root %v, want %v", done, nh.Roots[i], roots[i])
				}
				bl += roots[i].Size
			}
			if nh.Length != uint64(done) || nh.ByteLength != bl || nh.TreeHash != TreeHash(roots) || nh.Fork != h.Fork {
				t.Fatalf("length %d: head %+v", done, nh)
			}
			if err := nh.checkShape(); err != nil {
				t.Fatal(err)
			}
			h = nh
		}
	}
}

func TestGrowDoesNotAliasOldRoots(t *testing.T) {
	h, _ := grow(&Head{TreeHash: TreeHash(nil)}, hashLeaves(testPages(0, 3)))
	before := h.Clone()
	grow(h, hashLeaves(testPages(3, 4)))
	if !headsEqual(before, h) {
		t.Fatalf("grow modified its input head")
	}
}

// ---- Append ----

func TestAppendReturnsLengthAndByteLength(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	var events []AppendInfo
	b := newWriter(t, pdb, "w/", 1, &Options{NoSync: true, EventListener: &EventListener{
		Appended: func(i AppendInfo) { events = append(events, i) },
	}})
	if h, signed := b.Head(); signed || h.Length != 0 || h.TreeHash != TreeHash(nil) {
		t.Fatalf("new book head %+v signed %v", h, signed)
	}
	var all [][]byte
	var bytesTotal uint64
	rng := rand.New(rand.NewPCG(3, 4))
	for step := 0; step < 30; step++ {
		k := rng.IntN(6) + 1
		batch := testPages(len(all), len(all)+k)
		for _, p := range batch {
			bytesTotal += uint64(len(p))
		}
		res, err := b.Append(ctx, batch...)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, batch...)
		if res.Length != uint64(len(all)) || res.ByteLength != bytesTotal {
			t.Fatalf("step %d: append returned %+v, want length %d bytes %d", step, res, len(all), bytesTotal)
		}
		if b.Length() != res.Length || b.ByteLength() != res.ByteLength || b.Fork() != 0 {
			t.Fatalf("step %d: book says %d/%d/%d", step, b.Length(), b.ByteLength(), b.Fork())
		}
		h, signed := b.Head()
		if !signed {
			t.Fatal("head not signed after append")
		}
		if err := h.Verify(b.Key()); err != nil {
			t.Fatalf("step %d: head does not verify: %v", step, err)
		}
		roots := scratchRoots(all)
		if TreeHash(roots) != h.TreeHash {
			t.Fatalf("step %d: tree hash differs from scratch", step)
		}
		if len(events) != step+1 || events[step].Start != uint64(len(all)-k) || events[step].Length != uint64(len(all)) ||
			events[step].ByteLength != bytesTotal || !events[step].Local {
			t.Fatalf("step %d: appended events %+v", step, events)
		}
	}
	// every node stored matches the scratch tree, and nothing else is stored
	want := scratchTree(all)
	for idx, n := range want {
		got, err := getNode(pdb, b.keys, idx)
		if err != nil || got != n {
			t.Fatalf("node %d: %v %v, want %v", idx, got, err, n)
		}
	}
	if got, want := countKeys(t, b, tagNode), len(all)-bits.OnesCount(uint(len(all))); got != want {
		t.Fatalf("%d node records, want %d parents", got, want)
	}
	if got := countKeys(t, b, tagPage); got != len(all) {
		t.Fatalf("%d page records, want %d", got, len(all))
	}
	for i, p := range all {
		got, err := b.Get(ctx, uint64(i), &GetOptions{LocalOnly: true})
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("page %d: %q %v, want %q", i, got, err, p)
		}
	}
	mustAudit(t, b)

	// an empty append changes nothing and signs nothing
	before := mustHead(t, b)
	res, err := b.Append(ctx)
	if err != nil || res.Length != before.Length || res.ByteLength != before.ByteLength {
		t.Fatalf("empty append: %+v %v", res, err)
	}
	if !headsEqual(before, mustHead(t, b)) || len(events) != 30 {
		t.Fatal("empty append changed the head or fired an event")
	}
}

func TestAppendSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	pk, sk := seedKey(9)
	b, err := Open(pdb, []byte("w/"), pk, sk, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, b, testPages(0, 5)...)
	mustAppend(t, b, testPages(5, 11)...)
	want := mustHead(t, b)
	b.Close()
	b2, err := Open(pdb, []byte("w/"), pk, sk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if !headsEqual(want, mustHead(t, b2)) {
		t.Fatal("head differs after reopen")
	}
	mustAppend(t, b2, testPage(11))
	got, err := b2.Get(ctx, 11, &GetOptions{LocalOnly: true})
	if err != nil || !bytes.Equal(got, testPage(11)) {
		t.Fatalf("page 11 after reopen: %q %v", got, err)
	}
	if TreeHash(scratchRoots(testPages(0, 12))) != mustHead(t, b2).TreeHash {
		t.Fatal("tree after reopen and append differs from scratch")
	}
	mustAudit(t, b2)
	// the same key read-only sees the same head
	r, err := Open(pdb, []byte("w/"), pk, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Writable() || !headsEqual(mustHead(t, r), mustHead(t, b2)) {
		t.Fatal("read-only open of the writer's prefix sees another head")
	}
}

func TestAppendParallelHashing(t *testing.T) {
	// a batch over parallelHashBytes takes the multi-core path
	pdb := openPebble(t)
	b := newWriter(t, pdb, "w/", 2, &Options{NoSync: true})
	pages := make([][]byte, 100)
	for i := range pages {
		pages[i] = bytes.Repeat([]byte{byte(i)}, 4096+i)
	}
	res := mustAppend(t, b, pages...)
	var total uint64
	for _, p := range pages {
		total += uint64(len(p))
	}
	if total < parallelHashBytes {
		t.Fatalf("test batch %d bytes is under the parallel threshold", total)
	}
	if res.ByteLength != total || mustHead(t, b).TreeHash != TreeHash(scratchRoots(pages)) {
		t.Fatal("parallel-hashed batch gives another tree")
	}
	mustAudit(t, b)
}

func TestAppendCheckLength(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	b := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	res, err := b.AppendWith(ctx, AppendOptions{CheckLength: true, ExpectedLength: 0}, testPages(0, 3)...)
	if err != nil || res.Length != 3 {
		t.Fatalf("append at expected length: %+v %v", res, err)
	}
	before := mustHead(t, b)
	for _, exp := range []uint64{0, 2, 4, 100} {
		_, err := b.AppendWith(ctx, AppendOptions{CheckLength: true, ExpectedLength: exp}, testPage(3))
		if !errors.Is(err, ErrLengthChanged) {
			t.Fatalf("expected length %d: err %v, want ErrLengthChanged", exp, err)
		}
	}
	if !headsEqual(before, mustHead(t, b)) || countKeys(t, b, tagPage) != 3 {
		t.Fatal("a refused append wrote something")
	}
	if _, err := b.AppendWith(ctx, AppendOptions{CheckLength: true, ExpectedLength: 3, Sync: SyncOn}, testPage(3)); err != nil {
		t.Fatal(err)
	}
	mustAudit(t, b)

	// two racing writers expecting the same length: exactly one wins
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = b.AppendWith(ctx, AppendOptions{CheckLength: true, ExpectedLength: 4}, []byte(fmt.Sprint(i)))
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrLengthChanged):
			t.Fatalf("racing append: %v", err)
		}
	}
	if wins != 1 || b.Length() != 5 {
		t.Fatalf("%d racing appends won, length %d", wins, b.Length())
	}
	mustAudit(t, b)
}

func TestAppendTooLarge(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	b := newWriter(t, pdb, "w/", 1, &Options{MaxPageSize: 10, MaxBatchPages: 3, MaxBatchBytes: 20, NoSync: true})
	mustAppend(t, b, []byte("ok"))
	before := mustHead(t, b)
	cases := map[string][][]byte{
		"page too big":      {[]byte("tiny"), bytes.Repeat([]byte("x"), 11)},
		"too many pages":    {{1}, {2}, {3}, {4}},
		"too many bytes":    {bytes.Repeat([]byte("x"), 8), bytes.Repeat([]byte("y"), 8), bytes.Repeat([]byte("z"), 8)},
		"big first of many": {bytes.Repeat([]byte("x"), 100)},
	}
	for name, pages := range cases {
		_, err := b.Append(ctx, pages...)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%s: err %v, want ErrTooLarge", name, err)
		}
		if !headsEqual(before, mustHead(t, b)) || countKeys(t, b, tagPage) != 1 || countKeys(t, b, tagNode) != 0 {
			t.Fatalf("%s: refused append wrote something", name)
		}
		mustAudit(t, b)
	}
	// exactly at every limit is fine
	res, err := b.Append(ctx, bytes.Repeat([]byte("x"), 10), bytes.Repeat([]byte("y"), 10), nil)
	if err != nil || res.Length != 4 || res.ByteLength != 22 {
		t.Fatalf("append at the limits: %+v %v", res, err)
	}
	mustAudit(t, b)
}

func TestAppendDefaultPageLimit(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	b := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	big := make([]byte, 4<<20+1)
	if _, err := b.Append(ctx, big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("4 MiB + 1: %v, want ErrTooLarge", err)
	}
	if b.Length() != 0 || countKeys(t, b, tagPage) != 0 {
		t.Fatal("refused page was written")
	}
	if _, err := b.Append(ctx, big[:4<<20]); err != nil {
		t.Fatalf("exactly 4 MiB: %v", err)
	}
	if b.ByteLength() != 4<<20 {
		t.Fatalf("byte length %d", b.ByteLength())
	}
	// the default batch-page limit
	many := make([][]byte, 1<<16+1)
	if _, err := b.Append(ctx, many...); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("65,537 pages: %v, want ErrTooLarge", err)
	}
	if b.Length() != 1 {
		t.Fatal("refused batch changed the length")
	}
}

func TestAppendReadOnly(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, nil)
	r := newReader(t, pdb, "r/", w.Key(), nil)
	if r.Writable() || !w.Writable() {
		t.Fatal("Writable is wrong")
	}
	if _, err := r.Append(ctx, []byte("x")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only append: %v", err)
	}
	if _, err := r.AppendWith(ctx, AppendOptions{}, nil...); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only empty append: %v", err)
	}
	if err := r.Truncate(ctx, 0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only truncate: %v", err)
	}
	if r.Length() != 0 || countKeys(t, r, tagPage) != 0 || countKeys(t, r, tagHead) != 0 {
		t.Fatal("read-only append wrote something")
	}
}

func TestOpenChecksKeys(t *testing.T) {
	pdb := openPebble(t)
	pk, sk := seedKey(1)
	_, other := seedKey(2)
	if _, err := Open(pdb, []byte("x/"), pk[:31], nil, nil); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := Open(pdb, []byte("x/"), pk, other, nil); err == nil {
		t.Fatal("secret of another key accepted")
	}
	if _, err := Open(pdb, []byte("x/"), pk, sk[:63], nil); err == nil {
		t.Fatal("short secret accepted")
	}
	b, err := Open(pdb, []byte("x/"), pk, sk, &Options{Name: "named"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Name() != "named" || !b.Key().Equal(pk) || b.DiscoveryKey() != DiscoveryKey(pk) {
		t.Fatal("name, key or discovery key wrong")
	}
	if dk := DiscoveryKey(pk); bytes.Equal(dk[:], pk) {
		t.Fatal("discovery key equals the key")
	}
	r, err := Open(pdb, []byte("y/"), pk, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Name() != fmt.Sprintf("%x", []byte(pk)) {
		t.Fatalf("default name %q", r.Name())
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 4)...)
	proof, err := w.Proof(ProofRequest{Upgrade: &UpgradeRequest{}})
	if err != nil {
		t.Fatal(err)
	}
	r := newReader(t, pdb, "r/", w.Key(), nil)
	for _, b := range []*Book{w, r} {
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
		if !b.Closed() {
			t.Fatal("Closed is false")
		}
	}
	checks := map[string]error{}
	_, checks["append"] = w.Append(ctx, []byte("x"))
	_, checks["append empty"] = w.AppendWith(ctx, AppendOptions{})
	checks["truncate"] = w.Truncate(ctx, 1)
	checks["clear"] = w.Clear(ctx, 0, 1)
	checks["compact"] = w.Compact(ctx)
	_, checks["get"] = w.Get(ctx, 0, nil)
	_, checks["get local"] = w.Get(ctx, 0, &GetOptions{LocalOnly: true})
	_, checks["has"] = w.Has(0)
	_, _, checks["seek"] = w.Seek(ctx, 0)
	_, checks["proof"] = w.Proof(ProofRequest{Page: &PageRequest{Index: 0}})
	_, checks["snapshot"] = w.Snapshot()
	_, checks["audit"] = w.Audit(ctx)
	_, checks["missing"] = r.MissingNodes(0)
	_, checks["evidence"] = r.Evidence()
	checks["apply"] = r.ApplyProof(ctx, proof)
	checks["wait"] = w.Wait(ctx, 100)
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", name, err)
		}
	}
	if r.Length() != 0 {
		t.Fatal("closed reader applied a proof")
	}
	// the data is still there for the next opener
	w2 := newWriter(t, pdb, "w/", 1, nil)
	if w2.Length() != 4 {
		t.Fatalf("reopened length %d", w2.Length())
	}
}

func TestConcurrentUse(t *testing.T) {
	// appends, reads, proofs, snapshots and audits at once (run with -race)
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 4)...)
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Go(func() {
			for i := 0; i < 100; i++ {
				if _, err := w.Append(ctx, testPage(i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; i < 50; i++ {
			n := w.Length()
			j := uint64(i) % n
			if _, err := w.Get(ctx, j, nil); err != nil {
				t.Error(err)
				return
			}
			if _, err := w.Proof(ProofRequest{Page: &PageRequest{Index: j}, Upgrade: &UpgradeRequest{}}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := 0; i < 10; i++ {
			rep, err := w.Audit(ctx)
			if err != nil || !rep.OK() {
				t.Errorf("audit during appends: %v %v", err, rep.Problems)
				return
			}
			s, err := w.Snapshot()
			if err != nil {
				t.Error(err)
				return
			}
			if s.Length() > 0 {
				if _, err := s.Get(s.Length() - 1); err != nil {
					t.Errorf("snapshot's last page: %v", err)
				}
			}
			s.Close()
		}
	})
	wg.Wait()
	if w.Length() != 204 {
		t.Fatalf("length %d after concurrent appends", w.Length())
	}
	mustAudit(t, w)
}
