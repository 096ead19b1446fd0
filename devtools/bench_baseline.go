package devtools

import (
	"encoding/binary"
	"math/bits"
	"os"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/folio-p2p/folio/db"
)

// The raw-Pebble baseline of append-batch: the records an append of the
// same pages writes — one per page (32-byte leaf hash ‖ page), one per new
// parent node (40 bytes), the head — under the same key layout, committed
// as one batch per append with the Pebble options a DB uses, but with
// nothing hashed or signed (the hashes are zero). The gap between it and
// append-batch is what folio adds on top of Pebble.

// Sizes of the records book writes (book/head.go, book/node.go).
const (
	baseHashSize   = 32
	baseNodeValue  = 40  // u64le size ‖ hash
	baseHeadFixed  = 123 // a head record without its roots
	baseRootRecord = 48
)

// benchPebbleBatch times c.Pages pages committed in batches of c.Batch as
// the raw records above, into a fresh Pebble in dir (removed after).
func benchPebbleBatch(dir string, c BenchConfig) ([]time.Duration, error) {
	defer os.RemoveAll(dir)
	po := db.PebbleOptions(&db.Options{NoSync: !c.Sync})
	pdb, wo, err := openRaw(dir, po, c.Sync)
	po.Cache.Unref()
	if err != nil {
		return nil, err
	}
	defer pdb.Close()
	pages := randomPages(c.Pages, c.Size)
	prefix := []byte{0x02, 0, 0, 0, 1} // a book's prefix, as db gives it
	key := func(tag byte, i uint64) []byte {
		return binary.BigEndian.AppendUint64(append(append(make([]byte, 0, 16), prefix...), tag), i)
	}
	var zero [baseNodeValue]byte
	head := make([]byte, baseHeadFixed+64*baseRootRecord)
	lat := make([]time.Duration, 0, c.Pages/c.Batch+1)
	for lo := 0; lo < len(pages); lo += c.Batch {
		hi := min(lo+c.Batch, len(pages))
		t := time.Now()
		// Sized up front and kept by Pebble's pool, as folio's own batches
		// are: the baseline pays no buffer growth folio does not.
		b := pdb.NewBatchWithSize(baseBatchSize(pages[lo:hi]), pebble.WithMaxRetainedSizeBytes(8<<20))
		for i := lo; i < hi; i++ {
			// SetDeferred copies the page straight into the batch, as the
			// fastest raw use of Pebble would.
			k := key('p', uint64(i))
			op := b.SetDeferred(len(k), baseHashSize+len(pages[i]))
			copy(op.Key, k)
			copy(op.Value, zero[:baseHashSize])
			copy(op.Value[baseHashSize:], pages[i])
			if err := op.Finish(); err != nil {
				return nil, err
			}
			// Appending leaf i completes one parent per trailing one bit of i.
			for d := 1; d <= bits.TrailingZeros64(^uint64(i)); d++ {
				off := uint64(i) >> d
				if err := b.Set(key('n', off<<(d+1)|(1<<d-1)), zero[:], nil); err != nil {
					return nil, err
				}
			}
		}
		roots := bits.OnesCount64(uint64(hi))
		if err := b.Set(append(append([]byte(nil), prefix...), 'h'), head[:baseHeadFixed+roots*baseRootRecord], nil); err != nil {
			return nil, err
		}
		if err := b.Commit(wo); err != nil {
			return nil, err
		}
		b.Close()
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

// baseBatchSize is the encoded size of one append's records, near enough:
// per page its record and about one parent node, and the head.
func baseBatchSize(pages [][]byte) int {
	const perRecord = 1 + 2*5 + 16 // kind, two varint lengths, key
	n := 12 + baseHeadFixed + 64*baseRootRecord + perRecord
	for _, p := range pages {
		n += 2*perRecord + baseHashSize + len(p) + baseNodeValue
	}
	return n
}

// openRaw opens a raw Pebble for a baseline, with the write options of
// sync.
func openRaw(dir string, po *pebble.Options, sync bool) (*pebble.DB, *pebble.WriteOptions, error) {
	pdb, err := pebble.Open(dir, po)
	if err != nil {
		return nil, nil, err
	}
	if sync {
		return pdb, pebble.Sync, nil
	}
	return pdb, pebble.NoSync, nil
}
