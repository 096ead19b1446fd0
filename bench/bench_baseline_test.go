package bench

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

// The baseline writes what an append of the same pages writes: one record
// per page and one per completed parent, every parent once, over batches
// that start on and off subtree boundaries.
func TestRawBookWritesTheAppendsRecords(t *testing.T) {
	r, err := openRawBook(t.TempDir()+"/raw", BenchConfig{Shape: "append-batch"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	pages := randomPages(1000, 16)
	for _, cut := range [][2]int{{0, 100}, {100, 349}, {349, 350}, {350, 1000}} {
		if err := r.commit(pages[cut[0]:cut[1]], uint64(cut[0])); err != nil {
			t.Fatal(err)
		}
	}
	it, err := r.pdb.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var nPages, nNodes int
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != len(r.prefix)+9 {
			continue // the head
		}
		i := binary.BigEndian.Uint64(k[len(k)-8:])
		switch k[len(r.prefix)] {
		case 'p':
			if i != uint64(nPages) || len(it.Value()) != baseHashSize+16 {
				t.Fatalf("page record %d: index %d, %d bytes", nPages, i, len(it.Value()))
			}
			nPages++
		case 'n':
			// A parent at depth d ≥ 1 whose span of 2^d pages ends within the book.
			d := bits.TrailingZeros64(^i)
			if d == 0 || (i>>(d+1)+1)<<d > 1000 || len(it.Value()) != baseNodeValue {
				t.Fatalf("node record %d (depth %d) is not a complete parent", i, d)
			}
			nNodes++
		}
	}
	if nPages != 1000 || nNodes != 1000-bits.OnesCount(1000) {
		t.Fatalf("%d page and %d node records, want 1000 and %d", nPages, nNodes, 1000-bits.OnesCount(1000))
	}
}
