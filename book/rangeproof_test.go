package book

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// bruteRangeSiblings climbs from every page of the range to its root and
// returns the siblings of the climbed nodes that were not climbed.
func bruteRangeSiblings(start, end, length uint64) []uint64 {
	roots := rootSet(length)
	climbed := map[uint64]bool{}
	for i := start; i < end; i++ {
		for n := 2 * i; ; n = parent(n) {
			climbed[n] = true
			if roots[n] {
				break
			}
		}
	}
	var out []uint64
	for n := range climbed {
		if !roots[n] && !climbed[sibling(n)] {
			out = append(out, sibling(n))
		}
	}
	slices.Sort(out)
	return out
}

func TestRangeSiblingsMatchBruteForce(t *testing.T) {
	for length := uint64(1); length <= 40; length++ {
		for start := uint64(0); start < length; start++ {
			for end := start + 1; end <= length; end++ {
				got, want := rangeSiblings(start, end, length), bruteRangeSiblings(start, end, length)
				if !slices.Equal(got, want) {
					t.Fatalf("length %d [%d,%d): got %v, want %v", length, start, end, got, want)
				}
			}
		}
	}
}

func TestRangeProofRoundTrip(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w", 1, nil)
	for i := 0; i < 37; i++ {
		if _, err := w.Append(ctx, []byte{byte(i)}, make([]byte, i)); err != nil {
			t.Fatal(err)
		}
	}
	n := w.Length()
	for _, r := range [][2]uint64{{0, n}, {0, 1}, {n - 1, n}, {5, 30}, {31, 64}, {13, 14}} {
		rd := newReader(t, pdb, "r"+string(rune('a'+r[0]))+string(rune('a'+r[1]%26)), w.Key(), nil)
		p, err := w.Proof(ProofRequest{Range: &RangeRequest{Start: r[0], End: r[1]}, Upgrade: &UpgradeRequest{}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rd.ApplyProof(ctx, p); err != nil {
			t.Fatalf("range %v: %v", r, err)
		}
		for i := uint64(0); i < n; i++ {
			has, _ := rd.Has(i)
			if has != (i >= r[0] && i < r[1]) {
				t.Fatalf("range %v: Has(%d) = %v", r, i, has)
			}
		}
		want, _ := w.Get(ctx, r[1]-1, nil)
		if got, err := rd.Get(ctx, r[1]-1, &GetOptions{LocalOnly: true}); err != nil || string(got) != string(want) {
			t.Fatalf("range %v: last page %x, %v", r, got, err)
		}
		if rep, err := rd.Audit(ctx); err != nil || !rep.OK() {
			t.Fatalf("range %v: audit %v %v", r, err, rep.Problems)
		}
	}
}

// A follower takes the book in chunks, each with the upgrade to the
// writer's current length, as replication does.
func TestRangeProofFollowInChunks(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w", 2, nil)
	rd := newReader(t, pdb, "r", w.Key(), nil)
	var next uint64
	for round := 0; round < 20; round++ {
		batch := make([][]byte, 1+round*3)
		for i := range batch {
			batch[i] = []byte{byte(round), byte(i)}
		}
		if _, err := w.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		end := w.Length()
		p, err := w.Proof(ProofRequest{Range: &RangeRequest{Start: next, End: end}, Upgrade: &UpgradeRequest{Start: rd.Length()}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rd.ApplyProof(ctx, p); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		next = end
	}
	wh, _ := w.Head()
	rh, _ := rd.Head()
	if wh.TreeHash != rh.TreeHash || rd.Length() != w.Length() {
		t.Fatalf("reader head %d/%x, writer %d/%x", rh.Length, rh.TreeHash, wh.Length, wh.TreeHash)
	}
	if rep, err := rd.Audit(ctx); err != nil || !rep.OK() {
		t.Fatalf("audit: %v %v", err, rep.Problems)
	}
}

func TestRangeProofTampered(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w", 3, nil)
	pages := make([][]byte, 21)
	for i := range pages {
		pages[i] = []byte{byte(i), 1, 2}
	}
	if _, err := w.Append(ctx, pages...); err != nil {
		t.Fatal(err)
	}
	good := func() *Proof {
		p, err := w.Proof(ProofRequest{Range: &RangeRequest{Start: 3, End: 11}, Upgrade: &UpgradeRequest{}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]func(p *Proof){
		"value byte":   func(p *Proof) { p.Range.Values[2][0] ^= 1 },
		"value added":  func(p *Proof) { p.Range.Values = append(p.Range.Values, []byte("x")) },
		"value gone":   func(p *Proof) { p.Range.Values = p.Range.Values[1:] },
		"start moved":  func(p *Proof) { p.Range.Start++ },
		"node hash":    func(p *Proof) { p.Range.Nodes[0].Hash[3] ^= 1 },
		"node size":    func(p *Proof) { p.Range.Nodes[1].Size++ },
		"node dropped": func(p *Proof) { p.Range.Nodes = p.Range.Nodes[1:] },
		"node extra":   func(p *Proof) { p.Range.Nodes = append(p.Range.Nodes, Node{Index: 40}) },
		"node dup":     func(p *Proof) { p.Range.Nodes = append(p.Range.Nodes, p.Range.Nodes[0]) },
		"past length":  func(p *Proof) { p.Range.Start = 20 },
		"empty":        func(p *Proof) { p.Range.Values = nil },
		"both page":    func(p *Proof) { p.Page = &PageProof{Index: 3, Value: pages[3]} },
	}
	for name, mutate := range cases {
		rd := newReader(t, pdb, "r-"+name, w.Key(), nil)
		p := good()
		mutate(p)
		err := rd.ApplyProof(ctx, p)
		if !errors.Is(err, ErrVerify) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%s: ApplyProof = %v, want ErrVerify", name, err)
		}
		if rd.Length() != 0 {
			t.Fatalf("%s: reader length %d after a refused proof", name, rd.Length())
		}
		if has, _ := rd.Has(3); has {
			t.Fatalf("%s: page stored after a refused proof", name)
		}
	}
	// And the untampered proof verifies.
	rd := newReader(t, pdb, "r-good", w.Key(), nil)
	if err := rd.ApplyProof(ctx, good()); err != nil {
		t.Fatal(err)
	}
}
