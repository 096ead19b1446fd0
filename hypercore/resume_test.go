package hypercore

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
)

// TestFetchResumesSparse: a reader that already holds scattered pages
// (so the in-order path prediction is wrong for some blocks) still
// completes: a short proof fails to verify, stores nothing, and is asked
// again with the whole path.
func TestFetchResumesSparse(t *testing.T) {
	_, sk, _ := ed25519.GenerateKey(nil)
	w := writer(t, sk, pages(100, "s")...)
	r := openBook(t, w.Key(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, idx := range []uint64{37, 64, 99, 1} {
		req := book.ProofRequest{Page: &book.PageRequest{Index: idx}}
		if i == 0 {
			req.Upgrade = &book.UpgradeRequest{Start: 0}
		}
		p, err := w.Proof(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.ApplyProof(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	a, b := connPair(t)
	go func() { _ = Serve(ctx, b, false, w, nil) }()
	if err := Fetch(ctx, a, true, r, nil); err != nil {
		t.Fatal(err)
	}
	sameBooks(t, w, r)
}
