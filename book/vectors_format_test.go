package book

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"
)

// vectorFill is a step's compact block description (testdata/vectors/
// hypercore/README.md): page j is the first Size bytes of
// SHA-256(seed ‖ u64le(j) ‖ u64le(0)) ‖ SHA-256(seed ‖ u64le(j) ‖ u64le(1)) ‖ …
// with Seed taken as UTF-8 bytes. bench/hypercore/vectors.mjs implements
// the same rule.
type vectorFill struct {
	Count int    `json:"count"`
	Size  int    `json:"size"`
	Seed  string `json:"seed"`
}

// A fill expands to at most this many pages and bytes, so a bad file
// fails instead of exhausting memory (the biggest step is 8 MiB; the most
// pages in one step 5,000).
const (
	maxFillPages = 1 << 20
	maxFillBytes = 256 << 20
)

func (f *vectorFill) pages() ([][]byte, error) {
	if f.Count < 0 || f.Size < 0 || f.Count > maxFillPages || (f.Size > 0 && f.Count > maxFillBytes/f.Size) {
		return nil, fmt.Errorf("fill %+v: out of bounds", *f)
	}
	var ctr [16]byte
	pages := make([][]byte, f.Count)
	for j := range pages {
		p := make([]byte, f.Size)
		binary.LittleEndian.PutUint64(ctr[:8], uint64(j))
		for k, off := uint64(0), 0; off < f.Size; k, off = k+1, off+sha256.Size {
			binary.LittleEndian.PutUint64(ctr[8:], k)
			h := sha256.New()
			h.Write([]byte(f.Seed))
			h.Write(ctr[:])
			copy(p[off:], h.Sum(nil))
		}
		pages[j] = p
	}
	return pages, nil
}

// nodesDigest is SHA-256 over u64le(index) ‖ u64le(size) ‖ hash of every
// node, in index order: how big vectors carry their trees.
func nodesDigest(nodes []Node) string {
	h := sha256.New()
	var le [16]byte
	for _, n := range nodes {
		binary.LittleEndian.PutUint64(le[:8], n.Index)
		binary.LittleEndian.PutUint64(le[8:], n.Size)
		h.Write(le[:])
		h.Write(n.Hash[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestVectorFillRule pins the fill rule to bytes computed by node's crypto
// (two pages of 40 bytes, seed "rule": two hashes per page).
func TestVectorFillRule(t *testing.T) {
	got, err := (&vectorFill{Count: 2, Size: 40, Seed: "rule"}).pages()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"d4c2561ac6e51313a4612925daee22ccbb07ee6929ccbef43ee4aae6e6f85534628d879e6d5a345e",
		"71b59ec1a915a30739fcfda2f55f9e55b62ef66963220948da734cc980b6b60b71f5cd5e600a75a0",
	}
	for i, w := range want {
		if hex.EncodeToString(got[i]) != w {
			t.Fatalf("page %d: %x, want %s", i, got[i], w)
		}
	}
	for _, bad := range []vectorFill{{Count: -1, Size: 1}, {Count: 1, Size: -1}, {Count: 1 << 20, Size: 1 << 20}} {
		if _, err := bad.pages(); err == nil {
			t.Fatalf("fill %+v accepted", bad)
		}
	}
}
