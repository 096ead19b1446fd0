package bench

import (
	"context"
	"encoding/binary"
	"math/bits"
	"os"
	"slices"
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

// rawBook is the baseline's side: a fresh Pebble taking the raw records.
type rawBook struct {
	pdb    *pebble.DB
	wo     *pebble.WriteOptions
	dir    string
	prefix []byte // a book's prefix, as db gives it
	zero   [baseNodeValue]byte
	head   []byte
	nodes  []uint64 // a chunk's parents, reused
	joins  []uint64 // a batch's parents joining chunks, reused
	stalls db.Stalls
}

func openRawBook(dir string, c BenchConfig) (*rawBook, error) {
	sync := c.Sync
	r := &rawBook{dir: dir, prefix: []byte{0x02, 0, 0, 0, 1}, head: make([]byte, baseHeadFixed+64*baseRootRecord)}
	po := db.PebbleOptions(c.dbOptions())
	po.EventListener = r.stalls.Listener()
	pdb, wo, err := openRaw(dir, po, sync)
	po.Cache.Unref()
	if err != nil {
		return nil, err
	}
	r.pdb, r.wo = pdb, wo
	return r, nil
}

func (r *rawBook) close() {
	r.pdb.Close()
	os.RemoveAll(r.dir)
}

// commit writes pages, the first at index first, as one batch, in the
// order an append writes them (book/append_prep.go): chunks of 64 pages
// aligned in the book, each its page records, then the parents wholly
// inside it in key order; last, the parents that join the chunks' subtrees
// to older ones, and the head. The order matters to the memtable insert,
// which steps cheaply only from one key to a larger one.
func (r *rawBook) commit(pages [][]byte, first uint64) error {
	// Sized up front and kept by Pebble's pool, as folio's own batches
	// are: the baseline pays no buffer growth folio does not.
	b := r.pdb.NewBatchWithSize(baseBatchSize(pages), pebble.WithMaxRetainedSizeBytes(8<<20))
	defer b.Close()
	r.joins = r.joins[:0]
	for j := 0; j < len(pages); {
		i := first + uint64(j)
		end := min(len(pages), j+int(baseChunk-i%baseChunk))
		r.nodes = r.nodes[:0]
		for ; j < end; j++ {
			i := first + uint64(j)
			// SetDeferred copies the page straight into the batch, as
			// the fastest raw use of Pebble would.
			op := b.SetDeferred(len(r.prefix)+9, baseHashSize+len(pages[j]))
			r.putKey(op.Key, 'p', i)
			copy(op.Value, r.zero[:baseHashSize])
			copy(op.Value[baseHashSize:], pages[j])
			if err := op.Finish(); err != nil {
				return err
			}
			// Appending leaf i completes one parent per trailing one bit
			// of i; it is the chunk's if its pages are all in this batch
			// and this chunk.
			for d := 1; d <= bits.TrailingZeros64(^i); d++ {
				n := (i>>d)<<(d+1) | (1<<d - 1)
				if d <= baseChunkDepth && (i>>d)<<d >= first {
					r.nodes = append(r.nodes, n)
				} else {
					r.joins = append(r.joins, n)
				}
			}
		}
		slices.Sort(r.nodes)
		if err := r.putNodes(b, r.nodes); err != nil {
			return err
		}
	}
	if err := r.putNodes(b, r.joins); err != nil {
		return err
	}
	roots := bits.OnesCount64(first + uint64(len(pages)))
	if err := b.Set(append(append([]byte(nil), r.prefix...), 'h'), r.head[:baseHeadFixed+roots*baseRootRecord], nil); err != nil {
		return err
	}
	return b.Commit(r.wo)
}

// baseChunk is book's prepChunk, 2^baseChunkDepth pages.
const (
	baseChunk      = 64
	baseChunkDepth = 6
)

func (r *rawBook) putNodes(b *pebble.Batch, nodes []uint64) error {
	for _, n := range nodes {
		op := b.SetDeferred(len(r.prefix)+9, baseNodeValue)
		r.putKey(op.Key, 'n', n)
		copy(op.Value, r.zero[:])
		if err := op.Finish(); err != nil {
			return err
		}
	}
	return nil
}

// putKey writes the key of record (tag, i) into dst, in place: no key is
// allocated per record (folio allocates none either).
func (r *rawBook) putKey(dst []byte, tag byte, i uint64) {
	n := copy(dst, r.prefix)
	dst[n] = tag
	binary.BigEndian.PutUint64(dst[n+1:], i)
}

// benchAppendVsRaw times c.Pages pages appended to a book in batches of
// c.Batch, and the same pages committed as raw records (rawBook) into a
// second Pebble, batch by batch in turn, so that whatever else runs on the
// machine weighs on both alike. It returns folio's latencies and the
// baseline's, and sets r's write stall figures.
func benchAppendVsRaw(ctx context.Context, dir string, c BenchConfig, r *BenchResult) (lat, base []time.Duration, _ error) {
	d, b, err := openBench(dir, c)
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	raw, err := openRawBook(dir+"-baseline", c)
	if err != nil {
		return nil, nil, err
	}
	defer raw.close()
	pages := randomPages(c.Pages, c.Size)
	lat = make([]time.Duration, 0, c.Pages/c.Batch+1)
	base = make([]time.Duration, 0, c.Pages/c.Batch+1)
	for lo := 0; lo < len(pages); lo += c.Batch {
		batch := pages[lo:min(lo+c.Batch, len(pages))]
		t := time.Now()
		if err := raw.commit(batch, uint64(lo)); err != nil {
			return nil, nil, err
		}
		base = append(base, time.Since(t))
		t = time.Now()
		if _, err := b.Append(ctx, batch...); err != nil {
			return nil, nil, err
		}
		lat = append(lat, time.Since(t))
	}
	m, err := d.Metrics()
	if err != nil {
		return nil, nil, err
	}
	r.setStalls(m, raw.stalls.Metrics())
	return lat, base, nil
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

// setStalls records folio's write stalls and pacing (from m) and the
// baseline's stalls.
func (r *BenchResult) setStalls(m *db.Metrics, base db.StallMetrics) {
	folio := m.WriteStalls
	r.PacedAppends, r.PacedMs = int(m.Pacing.Waits), float64(m.Pacing.Time.Microseconds())/1e3
	r.Stalls, r.StallMs = int(folio.Count()), float64(folio.Time.Microseconds())/1e3
	r.BaselineStalls, r.BaselineStallMs = int(base.Count()), float64(base.Time.Microseconds())/1e3
	r.StallsL0, r.BaselineStallsL0 = int(folio.L0), int(base.L0)
}
