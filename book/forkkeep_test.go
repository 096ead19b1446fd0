package book

import (
	"context"
	"testing"
)

// wholeReader returns a writer of n pages and a reader holding all of them.
func wholeReader(t *testing.T, n int) (w, r *Book) {
	t.Helper()
	pdb := openPebble(t)
	w = newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, n)...)
	r = newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true})
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Range: &RangeRequest{Start: 0, End: uint64(n)}}))
	return w, r
}

// TestForkKeepsSharedPrefix: a reader that held a whole 16-page book moves
// to a fork truncated at 12 and grown by one page. It keeps pages 0–11 (the
// new roots [0,8) and [8,12) are nodes it holds), drops 12–15 and every
// node of the old tree the new one does not have — node 15, the old root
// [0,16), is below 2·12−1 in index yet spans the rewritten page — and
// every node it keeps equals the writer's. Then one page's proof is all it
// needs to be whole again.
func TestForkKeepsSharedPrefix(t *testing.T) {
	ctx := context.Background()
	w, r := wholeReader(t, 16)
	if _, err := getNode(r.pdb, r.keys, 15); err != nil {
		t.Fatalf("the reader does not hold the old root [0,16): %v", err)
	}
	if err := w.Truncate(ctx, 12); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, []byte("new 12"))
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	if r.Fork() != 1 || r.Length() != 13 {
		t.Fatalf("reader at length %d fork %d", r.Length(), r.Fork())
	}
	got := keyIndices(t, r, tagPage)
	if len(got) != 12 || got[0] != 0 || got[11] != 11 {
		t.Fatalf("page records %v after the fork, want 0–11", got)
	}
	for _, i := range keyIndices(t, r, tagNode) {
		rn, err := getNode(r.pdb, r.keys, i)
		if err != nil {
			t.Fatal(err)
		}
		wn, err := getNode(w.pdb, w.keys, i)
		if err != nil || wn != rn {
			t.Fatalf("the reader keeps node %d (%x), the writer's is %x (%v)", i, rn.Hash[:4], wn.Hash[:4], err)
		}
	}
	if c, err := r.Contiguous(0); err != nil || c != 12 {
		t.Fatalf("contiguous %d, %v", c, err)
	}
	mustAudit(t, r)
	mustApply(t, r, mustProof(t, w, ProofRequest{Range: &RangeRequest{Start: 12, End: 13}}))
	checkPageStored(t, r, 12, []byte("new 12"))
	checkPageStored(t, r, 11, testPage(11))
	mustAudit(t, r)
}

// TestForkKeepsNothingRewritten: a fork that rewrites page 0 shares no
// subtree: the reader keeps nothing of the old one.
func TestForkKeepsNothingRewritten(t *testing.T) {
	ctx := context.Background()
	w, r := wholeReader(t, 8)
	if err := w.Truncate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, testPages(100, 108)...)
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	if n := len(keyIndices(t, r, tagPage)); n != 0 {
		t.Fatalf("%d pages of the old fork kept", n)
	}
	for _, i := range keyIndices(t, r, tagNode) {
		if wn, err := getNode(w.pdb, w.keys, i); err != nil {
			t.Fatalf("node %d kept, not in the new tree: %v", i, err)
		} else if rn, _ := getNode(r.pdb, r.keys, i); rn != wn {
			t.Fatalf("node %d kept from the old tree", i)
		}
	}
	mustAudit(t, r)
}
