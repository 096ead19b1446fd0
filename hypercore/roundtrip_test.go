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

// TestUpgradeRoundTrip: for every reader length have ≤ asked ≤ full ≤ 24,
// the upgrade our prover builds for {start: have, length: asked−have}
// (with additionalNodes up to full) translates back into a proof the
// reader's book verifies, reaching length full (≤ 12 with -short). Both translations are
// written from hypercore's rules, so this checks they agree on every
// tree shape, not only the captured one.
func TestUpgradeRoundTrip(t *testing.T) {
	ctx := context.Background()
	_, sk, _ := ed25519.GenerateKey(nil)
	w := writer(t, sk)
	heads := map[uint64]*book.Proof{} // the upgrade from 0 to each length
	max := uint64(24)
	if testing.Short() {
		max = 12
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
				d, err := pr.prove(&wire.Request{ID: 1, Upgrade: &wire.RequestUpgrade{Start: have, Length: asked - have}})
				if err != nil {
					t.Fatal(err)
				}
				r, done := memReader(t, w.Key())
				if have > 0 {
					if err := r.ApplyProof(ctx, heads[have]); err != nil {
						t.Fatal(err)
					}
				}
				p, err := toProof(r, d)
				if err != nil {
					t.Fatalf("have %d asked %d full %d: %v", have, asked, full, err)
				}
				if err := r.ApplyProof(ctx, p); err != nil || r.Length() != full {
					t.Fatalf("have %d asked %d full %d: %v (length %d)", have, asked, full, err, r.Length())
				}
				done()
			}
		}
		snap.Close()
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
