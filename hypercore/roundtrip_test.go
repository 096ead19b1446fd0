package hypercore

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// TestUpgradeRoundTrip: for every reader length have ≤ asked ≤ full ≤ 16,
// the upgrade our prover builds for {start: have, length: asked−have}
// (with additionalNodes up to full), alone and with each block in
// [have, asked) merged into it, translates back into proofs the reader's
// book verifies, reaching length full (≤ 10 with -short). Both translations are
// written from hypercore's rules, so this checks they agree on every
// tree shape, not only the captured one.
func TestUpgradeRoundTrip(t *testing.T) {
	ctx := context.Background()
	_, sk, _ := ed25519.GenerateKey(nil)
	w := writer(t, sk)
	heads := map[uint64]*book.Proof{0: nil} // the upgrade from 0 to each length
	max := uint64(16)
	if testing.Short() {
		max = 10
	}
	for full := uint64(1); full <= max; full++ {
		if _, err := w.Append(ctx, []byte{byte(full)}); err != nil {
			t.Fatal(err)
		}
		p, err := w.Proof(book.ProofRequest{Upgrade: &book.UpgradeRequest{Start: 0}})
		if err != nil {
			t.Fatal(err)
		}
		heads[full] = p
		snap, err := w.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		pr := &prover{src: snap, head: snap.Head()}
		for have := uint64(0); have < full; have++ {
			for asked := have + 1; asked <= full; asked++ {
				// The upgrade alone, then with each block it brings
				// (hypercore merges the block's path into it).
				for blk := int64(-1); blk < int64(asked); blk++ {
					if blk >= 0 && uint64(blk) < have {
						continue
					}
					req := &wire.Request{ID: 1, Upgrade: &wire.RequestUpgrade{Start: have, Length: asked - have}}
					if blk >= 0 {
						req.Block = &wire.RequestBlock{Index: uint64(blk)}
					}
					roundTrip(t, w, pr, heads[have], req, full)
				}
			}
		}
		snap.Close()
	}
}

// roundTrip proves req, applies the answer to a reader at the head of
// proof have (nil: empty) and checks it reaches length full, holding the
// block asked.
func roundTrip(t *testing.T, w *book.Book, pr *prover, have *book.Proof, req *wire.Request, full uint64) {
	t.Helper()
	ctx := context.Background()
	d, err := pr.prove(req)
	if err != nil {
		t.Fatal(err)
	}
	if d.Block != nil {
		d.Block.Value, _ = w.Get(ctx, d.Block.Index, nil)
	}
	r, done := memReader(t, w.Key())
	defer done()
	if have != nil {
		if err := r.ApplyProof(ctx, have); err != nil {
			t.Fatal(err)
		}
	}
	u := req.Upgrade
	if err := applyData(ctx, r, d); err != nil || r.Length() != full {
		t.Fatalf("upgrade %d+%d to %d, block %v: %v (length %d)", u.Start, u.Length, full, req.Block, err, r.Length())
	}
	if req.Block != nil {
		if ok, _ := r.Has(req.Block.Index); !ok {
			t.Fatalf("block %d not stored", req.Block.Index)
		}
	}
}

// memReader opens a read-only book in memory; done closes it.
func memReader(t *testing.T, key ed25519.PublicKey) (b *book.Book, done func()) {
	pdb, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = book.Open(pdb, []byte("r"), key, nil, nil); err != nil {
		t.Fatal(err)
	}
	return b, func() { b.Close(); pdb.Close() }
}
