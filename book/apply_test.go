package book

import (
	"context"
	"errors"
	"testing"
)

// readerState is what a refused proof must leave untouched.
type readerState struct {
	head          *Head
	signed        bool
	pages, nodes  []uint64
	frozen        bool
	evidenceCount int
}

func snapshotState(t testing.TB, r *Book) readerState {
	t.Helper()
	h, signed := r.Head()
	return readerState{head: h, signed: signed, pages: keyIndices(t, r, tagPage), nodes: keyIndices(t, r, tagNode),
		frozen: r.Frozen(), evidenceCount: countKeys(t, r, tagEvidence)}
}

func sameUint64s(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s readerState) equal(o readerState) bool {
	return headsEqual(s.head, o.head) && s.signed == o.signed && sameUint64s(s.pages, o.pages) &&
		sameUint64s(s.nodes, o.nodes) && s.frozen == o.frozen && s.evidenceCount == o.evidenceCount
}

type tamperCase struct {
	name   string
	want   error // sentinel the error must match
	event  bool  // VerificationFailed must fire
	mutate func(p *Proof)
}

// runTamper applies every mutated copy of good to r and checks that each is
// refused with the right error, fires the event, and changes nothing.
func runTamper(t *testing.T, f *readerFactory, r *Book, good *Proof, cases []tamperCase) {
	t.Helper()
	ctx := context.Background()
	for _, c := range cases {
		before := snapshotState(t, r)
		failed := f.failed
		p := cloneProof(good)
		c.mutate(p)
		err := r.ApplyProof(ctx, p)
		if !errors.Is(err, c.want) {
			t.Fatalf("%s: err %v, want %v", c.name, err, c.want)
		}
		if errors.Is(err, ErrEquivocation) || r.Frozen() {
			t.Fatalf("%s: a bad proof froze the book: %v", c.name, err)
		}
		if got := f.failed - failed; (got == 1) != c.event || got > 1 {
			t.Fatalf("%s: %d VerificationFailed events, want event=%v", c.name, got, c.event)
		}
		if !before.equal(snapshotState(t, r)) {
			t.Fatalf("%s: the refused proof changed the reader", c.name)
		}
		mustAudit(t, r)
	}
	// the untouched proof still applies
	mustApply(t, r, good)
	mustAudit(t, r)
}

func TestTamperedPageProofs(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	f := newReaderFactory(t, pdb, w)
	mustAppend(t, w, testPages(0, 23)...)
	r := f.fresh()
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 3}}))
	other := newWriter(t, pdb, "o/", 7, &Options{NoSync: true})
	mustAppend(t, other, testPages(100, 123)...)

	const i = 12 // page 12 of 23 lies under root 15: a path of 4 nodes
	good := mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i}})
	if len(good.Page.Nodes) != 4 {
		t.Fatalf("path of %d nodes", len(good.Page.Nodes))
	}
	flip := func(b []byte, at int) { b[at] ^= 0x40 }
	cases := []tamperCase{
		{"value byte", ErrVerify, true, func(p *Proof) { p.Page.Value = append([]byte("z"), p.Page.Value[1:]...) }},
		{"value longer", ErrVerify, true, func(p *Proof) { p.Page.Value = append(p.Page.Value, 0) }},
		{"value shorter", ErrVerify, true, func(p *Proof) { p.Page.Value = p.Page.Value[:len(p.Page.Value)-1] }},
		{"first node hash", ErrVerify, true, func(p *Proof) { flip(p.Page.Nodes[0].Hash[:], 0) }},
		{"last node hash", ErrVerify, true, func(p *Proof) { flip(p.Page.Nodes[len(p.Page.Nodes)-1].Hash[:], 31) }},
		{"node size", ErrVerify, true, func(p *Proof) { p.Page.Nodes[1].Size++ }},
		{"node index", ErrVerify, true, func(p *Proof) { p.Page.Nodes[1].Index += 2 }},
		{"swap nodes", ErrVerify, true, func(p *Proof) { p.Page.Nodes[0], p.Page.Nodes[1] = p.Page.Nodes[1], p.Page.Nodes[0] }},
		{"drop the first node", ErrVerify, true, func(p *Proof) { p.Page.Nodes = p.Page.Nodes[1:] }},
		// the top node is 7, whose sibling 23 page 3's proof stored: the
		// path may stop at 23, not below it
		{"drop two top nodes", ErrVerify, true, func(p *Proof) { p.Page.Nodes = p.Page.Nodes[:len(p.Page.Nodes)-2] }},
		{"no nodes", ErrVerify, true, func(p *Proof) { p.Page.Nodes = nil }},
		{"extra node", ErrVerify, true, func(p *Proof) { p.Page.Nodes = append(p.Page.Nodes, p.Page.Nodes[0]) }},
		{"wrong index +1", ErrVerify, true, func(p *Proof) { p.Page.Index++ }},
		{"wrong index -1", ErrVerify, true, func(p *Proof) { p.Page.Index-- }},
		{"index past length", ErrVerify, true, func(p *Proof) { p.Page.Index = 23 }},
		{"huge index", ErrVerify, true, func(p *Proof) { p.Page.Index = 1 << 62 }},
		{"too many nodes", ErrVerify, true, func(p *Proof) { p.Page.Nodes = make([]Node, maxRoots+1) }},
		{"other fork", ErrStale, false, func(p *Proof) { p.Fork = 1 }},
		{"empty", ErrVerify, true, func(p *Proof) { p.Page = nil }},
		{"other book's page", ErrVerify, true, func(p *Proof) {
			*p = *mustProof(t, other, ProofRequest{Page: &PageRequest{Index: 0}})
		}},
	}
	runTamper(t, f, r, good, cases)
	checkPageStored(t, r, i, testPage(i))

	// the same for a short proof ending at a stored node
	m, err := r.MissingNodes(13)
	if err != nil || m != 1 {
		t.Fatalf("MissingNodes(13) = %d, %v, want 1", m, err)
	}
	short := mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 13, Nodes: m}})
	runTamper(t, f, r, short, []tamperCase{
		{"short: value", ErrVerify, true, func(p *Proof) { p.Page.Value = append(p.Page.Value, 'x') }},
		{"short: node hash", ErrVerify, true, func(p *Proof) { flip(p.Page.Nodes[0].Hash[:], 5) }},
		{"short: node size", ErrVerify, true, func(p *Proof) { p.Page.Nodes[0].Size += 1 << 20 }},
		// (with no nodes at all it would verify: page 12's proof stored
		// page 13's leaf hash)
		{"short: no nodes, other value", ErrVerify, true, func(p *Proof) { p.Page.Nodes, p.Page.Value = nil, nil }},
		{"short: node index", ErrVerify, true, func(p *Proof) { p.Page.Nodes[0].Index = 22 }},
	})

	if err := r.ApplyProof(context.Background(), nil); !errors.Is(err, ErrVerify) {
		t.Fatalf("nil proof: %v", err)
	}
}

func TestPageProofTooLargeForReader(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, []byte("small"), make([]byte, 100))
	f := newReaderFactory(t, pdb, w)
	f.opts.MaxPageSize = 50
	r := f.fresh()
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 0}}))
	good := mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 1}})
	before := snapshotState(t, r)
	if err := r.ApplyProof(context.Background(), good); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("page over the reader's limit: %v, want ErrTooLarge", err)
	}
	if !before.equal(snapshotState(t, r)) || f.failed != 1 {
		t.Fatalf("oversize page changed the reader or fired %d events", f.failed)
	}
	mustAudit(t, r)
}

func TestTamperedUpgrades(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	other := newWriter(t, pdb, "o/", 7, &Options{NoSync: true})
	f := newReaderFactory(t, pdb, w)
	mustAppend(t, w, testPages(0, 10)...)
	at10 := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}})
	mustAppend(t, w, testPages(10, 23)...)
	mustAppend(t, other, testPages(0, 23)...)

	r := f.fresh()
	mustApply(t, r, at10)
	// page 4 proves against the reader's own root at 10 (node 7)
	m, err := r.MissingNodes(4)
	if err != nil || m != 3 {
		t.Fatalf("MissingNodes(4) = %d, %v at length 10, want 3", m, err)
	}
	mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 4, Nodes: m}}))
	good := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{Start: 10}})
	if len(good.Upgrade.Nodes) < 2 {
		t.Fatalf("upgrade 10→23 carries %d link nodes", len(good.Upgrade.Nodes))
	}
	otherUp := mustProof(t, other, ProofRequest{Upgrade: &UpgradeRequest{Start: 10}})
	flip := func(b []byte, at int) { b[at] ^= 1 }
	cases := []tamperCase{
		{"signature", ErrVerify, true, func(p *Proof) { flip(p.Upgrade.Signature[:], 10) }},
		{"root hash", ErrVerify, true, func(p *Proof) { flip(p.Upgrade.Roots[0].Hash[:], 0) }},
		{"root size", ErrVerify, true, func(p *Proof) { p.Upgrade.Roots[1].Size++ }},
		{"root index", ErrVerify, true, func(p *Proof) { p.Upgrade.Roots[1].Index += 2 }},
		{"drop a root", ErrVerify, true, func(p *Proof) { p.Upgrade.Roots = p.Upgrade.Roots[1:] }},
		{"swap roots", ErrVerify, true, func(p *Proof) {
			p.Upgrade.Roots[0], p.Upgrade.Roots[1] = p.Upgrade.Roots[1], p.Upgrade.Roots[0]
		}},
		{"length", ErrVerify, true, func(p *Proof) { p.Upgrade.Length = 24 }},
		{"fork", ErrVerify, true, func(p *Proof) { p.Fork = 1 }},
		{"start", ErrVerify, true, func(p *Proof) { p.Upgrade.Start = 9 }},
		{"link node hash", ErrVerify, true, func(p *Proof) { flip(p.Upgrade.Nodes[0].Hash[:], 3) }},
		{"link node size", ErrVerify, true, func(p *Proof) { p.Upgrade.Nodes[1].Size-- }},
		{"link node index", ErrVerify, true, func(p *Proof) { p.Upgrade.Nodes[0].Index -= 2 }},
		{"swap link nodes", ErrVerify, true, func(p *Proof) {
			p.Upgrade.Nodes[0], p.Upgrade.Nodes[1] = p.Upgrade.Nodes[1], p.Upgrade.Nodes[0]
		}},
		{"drop a link node", ErrVerify, true, func(p *Proof) { p.Upgrade.Nodes = p.Upgrade.Nodes[1:] }},
		{"extra link node", ErrVerify, true, func(p *Proof) { p.Upgrade.Nodes = append(p.Upgrade.Nodes, p.Upgrade.Roots[0]) }},
		{"no link nodes", ErrVerify, true, func(p *Proof) { p.Upgrade.Nodes = nil }},
		{"too many link nodes", ErrVerify, true, func(p *Proof) { p.Upgrade.Nodes = make([]Node, maxProofNodes+1) }},
		{"too many roots", ErrVerify, true, func(p *Proof) { p.Upgrade.Roots = make([]Node, maxRoots+1) }},
		{"head of another key", ErrVerify, true, func(p *Proof) { *p = *cloneProof(otherUp) }},
		{"signature of another key", ErrVerify, true, func(p *Proof) { p.Upgrade.Signature = otherUp.Upgrade.Signature }},
		{"good upgrade, bad page", ErrVerify, true, func(p *Proof) {
			pp := mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 20}})
			pp.Page.Value = append(pp.Page.Value, '!')
			p.Page = pp.Page
		}},
		{"good upgrade, page past length", ErrVerify, true, func(p *Proof) {
			p.Page = &PageProof{Index: 23, Value: []byte("x")}
		}},
	}
	runTamper(t, f, r, good, cases)
	if !headsEqual(mustHead(t, r), mustHead(t, w)) {
		t.Fatal("reader did not reach the writer's head")
	}
	checkPageStored(t, r, 4, testPage(4))

	// an older head is stale: refused, but not a verification failure
	failed := f.failed
	before := snapshotState(t, r)
	if err := r.ApplyProof(context.Background(), at10); !errors.Is(err, ErrStale) {
		t.Fatalf("older head: %v, want ErrStale", err)
	}
	if f.failed != failed || !before.equal(snapshotState(t, r)) {
		t.Fatal("stale head fired an event or changed the reader")
	}
	mustAudit(t, r)
}

func TestTamperedFirstUpgrade(t *testing.T) {
	// a reader that holds nothing yet
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	f := newReaderFactory(t, pdb, w)
	mustAppend(t, w, testPages(0, 13)...)
	r := f.fresh()
	good := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 5}})
	runTamper(t, f, r, good, []tamperCase{
		{"signature", ErrVerify, true, func(p *Proof) { p.Upgrade.Signature[63] ^= 1 }},
		{"root hash", ErrVerify, true, func(p *Proof) { p.Upgrade.Roots[2].Hash[7] ^= 1 }},
		{"length", ErrVerify, true, func(p *Proof) { p.Upgrade.Length-- }},
		{"page value", ErrVerify, true, func(p *Proof) { p.Page.Value = []byte("not the page") }},
		{"page node", ErrVerify, true, func(p *Proof) { p.Page.Nodes[0].Hash[0] ^= 1 }},
		{"page without head", ErrVerify, true, func(p *Proof) { p.Upgrade = nil }},
		{"start not zero", ErrVerify, true, func(p *Proof) { p.Upgrade.Start = 3 }},
	})
	if r.Length() != 13 {
		t.Fatalf("length %d", r.Length())
	}
	checkPageStored(t, r, 5, testPage(5))
}

func TestEquivocationFreezes(t *testing.T) {
	ctx := context.Background()
	pdbA, pdbB := openPebble(t), openPebble(t)
	a := newWriter(t, pdbA, "a/", 3, &Options{NoSync: true})
	b := newWriter(t, pdbB, "b/", 3, &Options{NoSync: true}) // same secret, another DB
	mustAppend(t, a, testPages(0, 5)...)
	mustAppend(t, b, testPages(0, 4)...)
	mustAppend(t, b, []byte("a different fifth page"))
	ha, hb := mustHead(t, a), mustHead(t, b)
	if ha.Length != hb.Length || ha.Fork != hb.Fork || ha.TreeHash == hb.TreeHash {
		t.Fatal("the two writers did not diverge at the same length")
	}

	var eqEvents []EquivocationInfo
	failed := 0
	opts := &Options{NoSync: true, EventListener: &EventListener{
		Equivocation:       func(i EquivocationInfo) { eqEvents = append(eqEvents, i) },
		VerificationFailed: func(VerifyFailure) { failed++ },
	}}
	pdbR := openPebble(t)
	r, err := Open(pdbR, []byte("r/"), a.Key(), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, r, mustProof(t, a, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 1}}))
	err = r.ApplyProof(ctx, mustProof(t, b, ProofRequest{Upgrade: &UpgradeRequest{}}))
	if !errors.Is(err, ErrEquivocation) {
		t.Fatalf("second head: %v, want ErrEquivocation", err)
	}
	var eq *EquivocationError
	if !errors.As(err, &eq) {
		t.Fatalf("error %v is not an *EquivocationError", err)
	}
	if !headsEqual(eq.Stored, ha) || !headsEqual(eq.Other, hb) {
		t.Fatalf("evidence in the error: %+v / %+v", eq.Stored, eq.Other)
	}
	if !r.Frozen() || failed != 0 {
		t.Fatalf("frozen %v, %d verification failures", r.Frozen(), failed)
	}
	if len(eqEvents) != 1 || !headsEqual(eqEvents[0].Stored, ha) || !headsEqual(eqEvents[0].Other, hb) {
		t.Fatalf("equivocation events %+v", eqEvents)
	}
	checkEvidence := func(r *Book) {
		t.Helper()
		ev, err := r.Evidence()
		if err != nil || len(ev) != 2 || !headsEqual(ev[0], ha) || !headsEqual(ev[1], hb) {
			t.Fatalf("evidence %v %v", ev, err)
		}
		for _, h := range ev {
			if err := h.Verify(a.Key()); err != nil {
				t.Fatalf("evidence head does not verify: %v", err)
			}
		}
	}
	checkEvidence(r)
	// the reader keeps its head (the first one it trusted) and its pages
	if !headsEqual(mustHead(t, r), ha) {
		t.Fatal("the frozen reader changed its head")
	}
	checkPageStored(t, r, 1, testPage(1))
	mustAudit(t, r)
	// a frozen book takes nothing more, not even valid proofs
	for _, p := range []*Proof{
		mustProof(t, a, ProofRequest{Page: &PageRequest{Index: 2}}),
		mustProof(t, a, ProofRequest{Upgrade: &UpgradeRequest{}}),
	} {
		if err := r.ApplyProof(ctx, p); !errors.Is(err, ErrFrozen) {
			t.Fatalf("proof to a frozen book: %v, want ErrFrozen", err)
		}
	}
	if ok, _ := r.Has(2); ok {
		t.Fatal("frozen book stored a page")
	}
	// reads still work
	if _, err := r.Get(ctx, 1, &GetOptions{LocalOnly: true}); err != nil {
		t.Fatal(err)
	}
	r.Close()

	// the frozen flag and the evidence survive reopening
	r2, err := Open(pdbR, []byte("r/"), a.Key(), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if !r2.Frozen() || !headsEqual(mustHead(t, r2), ha) {
		t.Fatal("reopened book is not frozen")
	}
	checkEvidence(r2)
	if err := r2.ApplyProof(ctx, mustProof(t, a, ProofRequest{Page: &PageRequest{Index: 2}})); !errors.Is(err, ErrFrozen) {
		t.Fatalf("proof to the reopened frozen book: %v", err)
	}
	mustAudit(t, r2)
}

func TestEquivocationOfSharedRoot(t *testing.T) {
	// heads of different lengths that sign different values for one root:
	// the reader at 4 holds root 3; the other writer's head at 6 has
	// root 3 too, over other pages.
	pdbA, pdbB := openPebble(t), openPebble(t)
	a := newWriter(t, pdbA, "a/", 3, &Options{NoSync: true})
	b := newWriter(t, pdbB, "b/", 3, &Options{NoSync: true})
	mustAppend(t, a, testPages(0, 4)...)
	mustAppend(t, b, testPages(10, 14)...)
	mustAppend(t, b, testPages(14, 16)...)
	pdbR := openPebble(t)
	var events int
	r, err := Open(pdbR, []byte("r/"), a.Key(), nil, &Options{NoSync: true, EventListener: &EventListener{
		Equivocation: func(EquivocationInfo) { events++ },
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mustApply(t, r, mustProof(t, a, ProofRequest{Upgrade: &UpgradeRequest{}}))
	err = r.ApplyProof(context.Background(), mustProof(t, b, ProofRequest{Upgrade: &UpgradeRequest{Start: 4}}))
	var eq *EquivocationError
	if !errors.As(err, &eq) || !r.Frozen() || events != 1 {
		t.Fatalf("conflicting shared root: %v, frozen %v, %d events", err, r.Frozen(), events)
	}
	if eq.Stored.Length != 4 || eq.Other.Length != 6 {
		t.Fatalf("evidence lengths %d and %d", eq.Stored.Length, eq.Other.Length)
	}
}

func TestSameHeadTwiceIsNotEquivocation(t *testing.T) {
	pdbA, pdbB := openPebble(t), openPebble(t)
	a := newWriter(t, pdbA, "a/", 3, &Options{NoSync: true})
	b := newWriter(t, pdbB, "b/", 3, &Options{NoSync: true})
	// the same pages in other batches give the same tree, same head
	mustAppend(t, a, testPages(0, 6)...)
	mustAppend(t, b, testPages(0, 2)...)
	mustAppend(t, b, testPages(2, 6)...)
	r := newReader(t, openPebble(t), "r/", a.Key(), &Options{NoSync: true})
	mustApply(t, r, mustProof(t, a, ProofRequest{Upgrade: &UpgradeRequest{}}))
	mustApply(t, r, mustProof(t, b, ProofRequest{Upgrade: &UpgradeRequest{}}))
	mustApply(t, r, mustProof(t, b, ProofRequest{Page: &PageRequest{Index: 5}}))
	if r.Frozen() {
		t.Fatal("identical heads froze the book")
	}
	if ev, err := r.Evidence(); err != nil || len(ev) != 0 {
		t.Fatalf("evidence %v %v", ev, err)
	}
	mustAudit(t, r)
}

func TestReaderFollowsFork(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 20)...)
	var truncs []TruncateInfo
	var appends []AppendInfo
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true, EventListener: &EventListener{
		Truncated: func(i TruncateInfo) { truncs = append(truncs, i) },
		Appended:  func(i AppendInfo) { appends = append(appends, i) },
	}})
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	for _, i := range []uint64{2, 12, 15, 19} {
		mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i}}))
	}
	oldFork := mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 3}})
	if len(appends) != 1 {
		t.Fatalf("appended events %+v", appends)
	}

	if err := w.Truncate(ctx, 13); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, []byte("new 13"), []byte("new 14"))
	// the reader's length (20) is past the writer's: it asks from 0
	if _, err := w.Proof(ProofRequest{Upgrade: &UpgradeRequest{Start: r.Length()}}); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("upgrade from past the length: %v", err)
	}
	up := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}})
	if up.Fork != 1 {
		t.Fatalf("proof fork %d", up.Fork)
	}
	mustApply(t, r, up)
	if !headsEqual(mustHead(t, r), mustHead(t, w)) || r.Fork() != 1 || r.Length() != 15 {
		t.Fatalf("reader at %d/%d after the fork", r.Length(), r.Fork())
	}
	if len(truncs) != 1 || truncs[0].Fork != 1 || truncs[0].Length != 15 || len(appends) != 1 {
		t.Fatalf("truncated events %+v, appended %+v", truncs, appends)
	}
	// What the new tree shares with the old (its roots [0,8) and [8,12)
	// are the old tree's nodes) is kept, page 2 with it; the rest of the
	// old fork is gone.
	if got := keyIndices(t, r, tagPage); len(got) != 1 || got[0] != 2 {
		t.Fatalf("page records %v after the fork, want [2]", got)
	}
	checkPageStored(t, r, 2, testPage(2))
	for _, idx := range keyIndices(t, r, tagNode) {
		if !within(idx, 15) {
			t.Fatalf("node %d outside the new tree kept", idx)
		}
	}
	mustAudit(t, r)
	// a proof of the old fork is stale now
	if err := r.ApplyProof(ctx, oldFork); !errors.Is(err, ErrStale) {
		t.Fatalf("old-fork page proof: %v, want ErrStale", err)
	}
	// pages of the new fork prove, including the rewritten ones
	for i := uint64(0); i < 15; i++ {
		mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: i}}))
	}
	checkPageStored(t, r, 13, []byte("new 13"))
	checkPageStored(t, r, 12, testPage(12))
	mustAudit(t, r)
	// and it keeps following appends in the new fork
	mustAppend(t, w, []byte("new 15"))
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{Start: 15}, Page: &PageRequest{Index: 15}}))
	checkPageStored(t, r, 15, []byte("new 15"))
	if len(appends) != 2 || appends[1].Fork != 1 || appends[1].Start != 15 {
		t.Fatalf("appended events %+v", appends)
	}
	mustAudit(t, r)
}

func TestForkWithPageInOneProof(t *testing.T) {
	// a new fork's head and a page in one proof: the old data goes but for
	// the subtrees the forks share, the page (checked against the new
	// roots alone) stays
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 12)...)
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true})
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 1}}))
	mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 9}}))
	if err := w.Truncate(ctx, 10); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, []byte("ten"), []byte("eleven"), []byte("twelve"))
	// a short path that would need nodes of the old fork is refused
	short := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 0, Nodes: 1}})
	before := snapshotState(t, r)
	if err := r.ApplyProof(ctx, short); !errors.Is(err, ErrVerify) {
		t.Fatalf("new fork with a path ending at an old-fork node: %v", err)
	}
	if !before.equal(snapshotState(t, r)) {
		t.Fatal("refused fork proof changed the reader")
	}
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 11}}))
	if r.Fork() != 1 || r.Length() != 13 {
		t.Fatalf("reader at %d/%d", r.Length(), r.Fork())
	}
	checkPageStored(t, r, 11, []byte("eleven"))
	// Page 1 is under the root [0,8) the two forks share: kept. Page 9 is
	// under [8,12), which the new fork rewrote: gone.
	if got := keyIndices(t, r, tagPage); len(got) != 2 || got[0] != 1 || got[1] != 11 {
		t.Fatalf("page records %v, want [1 11]", got)
	}
	checkPageStored(t, r, 1, testPage(1))
	mustAudit(t, r)
	if m, err := r.MissingNodes(13); err != nil || m != 0 {
		t.Fatalf("MissingNodes past the length = %d, %v", m, err)
	}
}

func TestStaleForkUpgrade(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 8)...)
	fork0 := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}})
	if err := w.Truncate(ctx, 8); err != nil { // same length, new fork
		t.Fatal(err)
	}
	fork1 := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}})
	if fork1.Upgrade.Length != 8 || fork1.Fork != 1 || fork1.Upgrade.Signature == fork0.Upgrade.Signature {
		t.Fatal("truncate to the same length did not sign a new fork")
	}
	f := newReaderFactory(t, pdb, w)
	r := f.fresh()
	mustApply(t, r, fork1)
	before := snapshotState(t, r)
	if err := r.ApplyProof(ctx, fork0); !errors.Is(err, ErrStale) {
		t.Fatalf("older fork: %v, want ErrStale", err)
	}
	if !before.equal(snapshotState(t, r)) || f.failed != 0 || r.Frozen() {
		t.Fatal("stale fork changed the reader")
	}
	// in the other order the reader moves to the new fork
	r2 := f.fresh()
	mustApply(t, r2, fork0)
	mustApply(t, r2, fork1)
	if r2.Fork() != 1 || r2.Frozen() {
		t.Fatalf("reader at fork %d frozen %v", r2.Fork(), r2.Frozen())
	}
	mustAudit(t, r2)
}

func TestApplyProofNotifiesSubscribers(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 6)...)
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true})
	sub := r.Subscribe()
	defer sub.Close()
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	if u := <-sub.C; u.Length != 6 || u.ByteLength != w.ByteLength() {
		t.Fatalf("update %+v", u)
	}
	// a page without a length change sends the same length again
	mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 2}}))
	select {
	case u := <-sub.C:
		if u.Length != 6 {
			t.Fatalf("update %+v", u)
		}
	default:
		t.Fatal("no update for a stored page")
	}
	// a refused proof sends nothing
	bad := mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 3}})
	bad.Page.Value = append(bad.Page.Value, 1)
	if err := r.ApplyProof(context.Background(), bad); !errors.Is(err, ErrVerify) {
		t.Fatal(err)
	}
	select {
	case u := <-sub.C:
		t.Fatalf("update %+v for a refused proof", u)
	default:
	}
}

func TestApplyProofContextDone(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 3)...)
	r := newReader(t, pdb, "r/", w.Key(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.ApplyProof(ctx, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}})); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled apply: %v", err)
	}
	if r.Length() != 0 {
		t.Fatal("cancelled apply stored the head")
	}
}
