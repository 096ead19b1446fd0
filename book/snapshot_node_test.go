package book

import (
	"context"
	"errors"
	"testing"
)

func TestSnapshotNode(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w", 1, nil)
	mustAppend(t, w, testPages(0, 5)...)
	r := newReader(t, pdb, "r", w.Key(), nil)
	p, err := w.Proof(ProofRequest{Page: &PageRequest{Index: 2}, Upgrade: &UpgradeRequest{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ApplyProof(ctx, p); err != nil {
		t.Fatal(err)
	}
	ws, _ := w.Snapshot()
	defer ws.Close()
	rs, _ := r.Snapshot()
	defer rs.Close()
	for _, i := range []uint64{0, 1, 2, 3, 4, 5, 6, 8} { // the tree of 5 pages
		n, err := ws.Node(i)
		if err != nil || n.Index != i {
			t.Fatalf("writer node %d: %v, %v", i, n, err)
		}
	}
	// the reader holds page 2 (leaf 4), the path nodes it was sent (6, 1)
	// and the parents it computed (5, 3); the roots come with the head (3, 8)
	for _, i := range []uint64{1, 3, 4, 5, 6, 8} {
		rn, err := rs.Node(i)
		wn, _ := ws.Node(i)
		if err != nil || rn != wn {
			t.Fatalf("reader node %d: %v, %v; writer has %v", i, rn, err, wn)
		}
	}
	for _, i := range []uint64{0, 2, 7, 9, 100} {
		if _, err := rs.Node(i); !errors.Is(err, ErrNotFound) {
			t.Fatalf("reader node %d: %v, want ErrNotFound", i, err)
		}
	}
}
