package book

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// readerFactory opens fresh read-only books for one key in one Pebble.
type readerFactory struct {
	t      testing.TB
	pdb    *pebble.DB
	w      *Book
	n      int
	opts   *Options
	failed int // VerificationFailed events across every reader it made
}

func newReaderFactory(t testing.TB, pdb *pebble.DB, w *Book) *readerFactory {
	f := &readerFactory{t: t, pdb: pdb, w: w}
	f.opts = &Options{NoSync: true, EventListener: &EventListener{
		VerificationFailed: func(VerifyFailure) { f.failed++ },
	}}
	return f
}

func (f *readerFactory) fresh() *Book {
	f.n++
	return newReader(f.t, f.pdb, fmt.Sprintf("r%07d/", f.n), f.w.Key(), f.opts)
}

func mustProof(t testing.TB, b interface {
	Proof(ProofRequest) (*Proof, error)
}, req ProofRequest) *Proof {
	t.Helper()
	p, err := b.Proof(req)
	if err != nil {
		t.Fatalf("proof %+v: %v", req, err)
	}
	return p
}

func mustApply(t testing.TB, r *Book, p *Proof) {
	t.Helper()
	if err := r.ApplyProof(context.Background(), p); err != nil {
		t.Fatalf("apply proof: %v", err)
	}
}

// cloneProof deep-copies p so a test can tamper with the copy.
func cloneProof(p *Proof) *Proof {
	c := &Proof{Fork: p.Fork}
	if p.Page != nil {
		c.Page = &PageProof{Index: p.Page.Index, Value: append([]byte(nil), p.Page.Value...),
			Nodes: append([]Node(nil), p.Page.Nodes...)}
	}
	if p.Upgrade != nil {
		u := *p.Upgrade
		u.Roots = append([]Node(nil), p.Upgrade.Roots...)
		u.Nodes = append([]Node(nil), p.Upgrade.Nodes...)
		c.Upgrade = &u
	}
	return c
}

// rootOf returns the root of a tree of length pages that covers page i.
func rootOf(i, length uint64) uint64 {
	for _, r := range fullRoots(length) {
		if leftSpan(r)/2 <= i && i <= rightSpan(r)/2 {
			return r
		}
	}
	panic("page outside the tree")
}

func checkPageStored(t testing.TB, r *Book, i uint64, want []byte) {
	t.Helper()
	if ok, err := r.Has(i); err != nil || !ok {
		t.Fatalf("Has(%d) = %v, %v after its proof", i, ok, err)
	}
	got, err := r.Get(context.Background(), i, &GetOptions{LocalOnly: true})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get(%d) = %q, %v, want %q", i, got, err, want)
	}
}

func TestProofEveryPageIntoFreshReader(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	f := newReaderFactory(t, pdb, w)
	check := func(n uint64, i uint64) {
		p := mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i}, Upgrade: &UpgradeRequest{Start: 0}})
		if p.Fork != 0 || p.Upgrade.Length != n || len(p.Upgrade.Nodes) != 0 {
			t.Fatalf("n=%d i=%d: proof %+v", n, i, p.Upgrade)
		}
		if got, want := len(p.Page.Nodes), int(depth(rootOf(i, n))); got != want {
			t.Fatalf("n=%d i=%d: path of %d nodes, want %d", n, i, got, want)
		}
		r := f.fresh()
		mustApply(t, r, p)
		if !headsEqual(mustHead(t, r), mustHead(t, w)) {
			t.Fatalf("n=%d i=%d: reader head differs from writer", n, i)
		}
		checkPageStored(t, r, i, testPage(int(i)))
		for j := uint64(0); j < n; j++ {
			if ok, _ := r.Has(j); ok != (j == i) {
				t.Fatalf("n=%d: after proving page %d, Has(%d) = %v", n, i, j, ok)
			}
		}
		if countKeys(t, r, tagPage) != 1 {
			t.Fatalf("n=%d i=%d: reader stores %d pages", n, i, countKeys(t, r, tagPage))
		}
		mustAudit(t, r)
		r.Close()
	}
	for n := uint64(1); n <= 70; n++ {
		mustAppend(t, w, testPage(int(n-1)))
		for i := uint64(0); i < n; i++ {
			check(n, i)
		}
	}
	// some larger lengths, appended in random batches, random pages
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []uint64{100, 129, 255, 256, 257, 1000, 1023} {
		for w.Length() < n {
			k := min(n-w.Length(), uint64(rng.IntN(40)+1))
			mustAppend(t, w, testPages(int(w.Length()), int(w.Length()+k))...)
		}
		for _, i := range []uint64{0, n - 1, n / 2, rng.Uint64N(n), rng.Uint64N(n)} {
			check(n, i)
		}
	}
	if f.failed != 0 {
		t.Fatalf("%d verification failures", f.failed)
	}
}

func TestSparseReaderMissingNodes(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	const n = 45
	mustAppend(t, w, testPages(0, n)...)
	f := newReaderFactory(t, pdb, w)
	r := f.fresh()
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	for i := uint64(0); i < n; i++ {
		if ok, err := r.Has(i); ok || err != nil {
			t.Fatalf("Has(%d) = %v, %v before any page", i, ok, err)
		}
		if _, err := r.Get(ctx, i, &GetOptions{LocalOnly: true}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%d) LocalOnly: %v, want ErrNotFound", i, err)
		}
		// only the roots are known: the whole path is missing
		if m, err := r.MissingNodes(i); err != nil || (m != 0 && m != int(depth(rootOf(i, n)))) {
			t.Fatalf("MissingNodes(%d) = %d, %v with only roots, want the whole path", i, m, err)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	order := rng.Perm(n)[:30]
	have := map[uint64]bool{}
	shorter, tried := 0, 0
	for _, pi := range order {
		i := uint64(pi)
		full := int(depth(rootOf(i, n)))
		m, err := r.MissingNodes(i)
		if err != nil || m < 0 || m > full {
			t.Fatalf("MissingNodes(%d) = %d, %v; path is %d", i, m, err, full)
		}
		if m > 0 && m < full {
			shorter++
		}
		if m >= 2 {
			tried++
			// one node short of what is missing ends at a node nothing verified
			p := mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i, Nodes: m - 1}})
			before := mustHead(t, r)
			if err := r.ApplyProof(ctx, p); !errors.Is(err, ErrVerify) {
				t.Fatalf("page %d with %d of %d missing nodes: %v, want ErrVerify", i, m-1, m, err)
			}
			if ok, _ := r.Has(i); ok || !headsEqual(before, mustHead(t, r)) {
				t.Fatal("refused proof stored something")
			}
		}
		p := mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i, Nodes: m}})
		if m > 0 && len(p.Page.Nodes) != m {
			t.Fatalf("page %d: asked for %d nodes, got %d", i, m, len(p.Page.Nodes))
		}
		if m == 0 && len(p.Page.Nodes) != full {
			t.Fatalf("page %d: asked for the whole path (%d), got %d", i, full, len(p.Page.Nodes))
		}
		mustApply(t, r, p)
		have[i] = true
		for j := uint64(0); j < n; j++ {
			ok, err := r.Has(j)
			if err != nil || ok != have[j] {
				t.Fatalf("after page %d: Has(%d) = %v, %v, want %v", i, j, ok, err, have[j])
			}
		}
		checkPageStored(t, r, i, testPage(int(i)))
		// its sibling now needs one node at most (the leaf itself is known)
		if s := sibling(2*i) / 2; full > 0 && s < n && !have[s] {
			if m, _ := r.MissingNodes(s); m != 1 {
				t.Fatalf("MissingNodes(%d) = %d after its sibling %d was proven, want 1", s, m, i)
			}
		}
		mustAudit(t, r)
	}
	if shorter == 0 {
		t.Fatal("no proof was ever shortened by stored ancestors")
	}
	if f.failed != tried || tried == 0 {
		t.Fatalf("%d verification failures for %d short proofs", f.failed, tried)
	}
	// a full path is still accepted for a page whose ancestors are known
	for _, pi := range order[:5] {
		mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: uint64(pi)}}))
	}
	mustAudit(t, r)
}

func TestUpgradeFromEveryStart(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	f := newReaderFactory(t, pdb, w)
	saved := map[uint64]*Proof{} // upgrade from 0 to each length
	var lengths []uint64
	rng := rand.New(rand.NewPCG(9, 10))
	for w.Length() < 90 {
		k := uint64(1)
		if w.Length() > 40 {
			k = uint64(rng.IntN(9) + 1)
		}
		mustAppend(t, w, testPages(int(w.Length()), int(w.Length()+k))...)
		n := w.Length()
		for _, k := range append([]uint64{0}, lengths...) {
			r := f.fresh()
			if k > 0 {
				mustApply(t, r, saved[k])
			}
			up := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{Start: k}})
			if want := upgradeNodes(k, n); len(up.Upgrade.Nodes) != len(want) {
				t.Fatalf("%d→%d: %d link nodes, want %d", k, n, len(up.Upgrade.Nodes), len(want))
			}
			var events []AppendInfo
			r.opts.EventListener = &EventListener{Appended: func(i AppendInfo) { events = append(events, i) }}
			mustApply(t, r, up)
			if !headsEqual(mustHead(t, r), mustHead(t, w)) {
				t.Fatalf("%d→%d: reader head differs from writer", k, n)
			}
			if len(events) != 1 || events[0].Start != k || events[0].Length != n || events[0].Local {
				t.Fatalf("%d→%d: appended events %+v", k, n, events)
			}
			// a page of the new range proves with only the missing nodes
			i := k + rng.Uint64N(n-k)
			m, err := r.MissingNodes(i)
			if err != nil {
				t.Fatal(err)
			}
			mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i, Nodes: m}}))
			checkPageStored(t, r, i, testPage(int(i)))
			mustAudit(t, r)
			// the same upgrade again is a no-op, not an error
			mustApply(t, r, up)
			if len(events) != 1 {
				t.Fatalf("%d→%d: repeated upgrade fired an event", k, n)
			}
			r.Close()
		}
		saved[n] = mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{Start: 0}})
		lengths = append(lengths, n)
	}
	if f.failed != 0 {
		t.Fatalf("%d verification failures", f.failed)
	}
	if _, err := w.Proof(ProofRequest{Upgrade: &UpgradeRequest{Start: w.Length() + 1}}); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("upgrade from past the length: %v, want ErrOutOfRange", err)
	}
	_ = ctx
}

func TestUpgradeWithPageInOneProof(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	f := newReaderFactory(t, pdb, w)
	mustAppend(t, w, testPages(0, 10)...)
	at10 := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}})
	mustAppend(t, w, testPages(10, 37)...)
	for i := uint64(0); i < 37; i++ {
		r := f.fresh()
		mustApply(t, r, at10)
		mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i}, Upgrade: &UpgradeRequest{Start: 10}}))
		if r.Length() != 37 {
			t.Fatalf("length %d", r.Length())
		}
		checkPageStored(t, r, i, testPage(int(i)))
		mustAudit(t, r)
		r.Close()
	}
}

func TestRelayProvesWithAuthorSignature(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	f := newReaderFactory(t, pdb, w)
	mustAppend(t, w, testPages(0, 13)...)
	relay := f.fresh()
	mustApply(t, relay, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	if _, err := relay.Proof(ProofRequest{Page: &PageRequest{Index: 3}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("relay proves a page it lacks: %v", err)
	}
	for i := uint64(0); i < 13; i++ {
		mustApply(t, relay, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i}}))
	}
	at13 := mustProof(t, relay, ProofRequest{Upgrade: &UpgradeRequest{}})
	mustAppend(t, w, testPages(13, 20)...)
	mustApply(t, relay, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{Start: 13}}))
	for i := uint64(13); i < 20; i++ {
		mustApply(t, relay, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i}}))
	}
	mustAudit(t, relay)
	// a second reader learns everything from the relay alone
	r := f.fresh()
	mustApply(t, r, at13)
	up := mustProof(t, relay, ProofRequest{Upgrade: &UpgradeRequest{Start: 13}})
	if up.Upgrade.Signature != mustHead(t, w).Signature {
		t.Fatal("relay's upgrade does not carry the author's signature")
	}
	mustApply(t, r, up)
	for i := uint64(0); i < 20; i++ {
		mustApply(t, r, mustProof(t, relay, ProofRequest{Page: &PageRequest{Index: i}}))
		checkPageStored(t, r, i, testPage(int(i)))
	}
	if !headsEqual(mustHead(t, r), mustHead(t, w)) {
		t.Fatal("relayed head differs from the author's")
	}
	mustAudit(t, r)
	if err := w.ApplyProof(context.Background(), up); !errors.Is(err, ErrVerify) {
		t.Fatalf("the author's own book took a proof: %v", err)
	}
}

func TestProofOfEmptyBook(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, nil)
	if _, err := w.Proof(ProofRequest{Upgrade: &UpgradeRequest{}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("proof of a never-signed book: %v", err)
	}
	mustAppend(t, w, []byte("x"))
	if _, err := w.Proof(ProofRequest{Page: &PageRequest{Index: 1}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("proof of a page past the length: %v", err)
	}
	// a truncate to zero is a signed state a reader can follow
	if err := w.Truncate(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	r := newReader(t, pdb, "r/", w.Key(), nil)
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	if h, signed := r.Head(); !signed || h.Length != 0 || h.Fork != 1 {
		t.Fatalf("reader head %+v signed %v", h, signed)
	}
}
