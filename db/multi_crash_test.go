package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/folio-p2p/folio/book"
)

// Crash tests of AppendMulti: writers append to random sets of books on
// Pebble's crash-simulating memory filesystem; at a random moment it is
// crash-cloned (synced data kept, a random share of unsynced data too) and
// the clone opened. Every acknowledged multi-book append must be there, in
// every one of its books, and every other one in all of its books or none.

const multiCrashBooks = 4

// multiTag names a multi-book append: its writer, sequence number and the
// set of books (a bit mask) it went to.
type multiTag struct {
	w, seq, mask int
}

func (m multiTag) page(size int) []byte {
	p := fmt.Appendf(nil, "w%d/%d/%d;", m.w, m.seq, m.mask)
	for len(p) < size {
		p = append(p, byte('a'+(len(p)+m.seq)%26))
	}
	return p
}

func parseTag(p []byte) (multiTag, error) {
	var m multiTag
	_, err := fmt.Sscanf(string(p), "w%d/%d/%d;", &m.w, &m.seq, &m.mask)
	if err == nil && string(p) != string(m.page(len(p))) {
		err = fmt.Errorf("wrong filler")
	}
	return m, err
}

func TestAppendMultiCrash(t *testing.T) {
	base := testSeed(t, "FOLIO_MULTI_CRASH_SEED", 0)
	for i := range crashIters(t, 30, 8) {
		seed := base + uint64(i)
		if !t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { multiCrashOnce(t, seed) }) {
			t.Fatalf("replay with FOLIO_MULTI_CRASH_SEED=%d FOLIO_CRASH_ITERS=1", seed)
		}
	}
}

func multiCrashOnce(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 5))
	fs := vfs.NewCrashableMem()
	d, err := Open("/db", &Options{FS: fs, MemTableSize: uint64(64<<10 + rng.IntN(256<<10))})
	if err != nil {
		t.Fatal(err)
	}
	bs := openBooks(t, d, "a", "b", "c", "d")
	var (
		mu    sync.Mutex
		acked []multiTag
		count atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for w := range 2 {
		wseed := rng.Uint64()
		wg.Go(func() {
			r := rand.New(rand.NewPCG(wseed, 1))
			for seq := 0; !stop.Load() && seq < 300; seq++ {
				tag := multiTag{w: w, seq: seq, mask: 1 + r.IntN(1<<multiCrashBooks-1)}
				size := 20 + r.IntN(1500)
				if r.IntN(30) == 0 {
					size = 40_000 // spans WAL blocks
				}
				var parts []Append
				for i, b := range bs {
					if tag.mask&(1<<i) != 0 {
						parts = append(parts, Append{Book: b, Pages: [][]byte{tag.page(size)}})
					}
				}
				if _, err := d.AppendMulti(ctx, book.SyncDefault, parts...); err != nil {
					t.Errorf("writer %d append %d: %v", w, seq, err)
					return
				}
				mu.Lock()
				acked = append(acked, tag)
				mu.Unlock()
				count.Add(1)
			}
		})
	}
	target := int64(rng.IntN(200))
	for count.Load() < target && !t.Failed() {
		runtime.Gosched()
	}
	mu.Lock()
	before := append([]multiTag(nil), acked...)
	mu.Unlock()
	percent := []int{0, 10, 50, 90, 100}[rng.IntN(5)]
	clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: percent, RNG: rand.New(rand.NewPCG(seed, 9))})
	stop.Store(true)
	wg.Wait()
	d.Close()
	checkMultiRecovered(t, clone, before)
}

// checkMultiRecovered opens the crash clone and checks the books.
func checkMultiRecovered(t *testing.T, fs vfs.FS, before []multiTag) {
	d, err := Open("/db", &Options{FS: fs})
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	defer d.Close()
	found := map[multiTag]int{} // tag → mask of books holding it
	for i, b := range openBooks(t, d, "a", "b", "c", "d") {
		auditClean(t, b)
		for j, p := range pagesOf(t, b) {
			tag, err := parseTag([]byte(p))
			if err != nil {
				t.Fatalf("book %d page %d: %v", i, j, err)
			}
			if tag.mask&(1<<i) == 0 {
				t.Fatalf("book %d holds %+v, not meant for it", i, tag)
			}
			found[tag] |= 1 << i
		}
	}
	last := map[int]int{0: -1, 1: -1}
	for tag, mask := range found {
		if mask != tag.mask {
			t.Fatalf("append %+v is in books %b only: not atomic", tag, mask)
		}
		last[tag.w] = max(last[tag.w], tag.seq)
	}
	for w, l := range last { // each writer's appends survive as a prefix
		for seq := 0; seq <= l; seq++ {
			if !hasSeq(found, w, seq) {
				t.Fatalf("writer %d: append %d survived but %d did not", w, l, seq)
			}
		}
	}
	for _, tag := range before {
		if _, ok := found[tag]; !ok {
			t.Fatalf("acknowledged synced append %+v lost", tag)
		}
	}
	t.Logf("%d acknowledged before the crash, %d recovered", len(before), len(found))
}

func hasSeq(found map[multiTag]int, w, seq int) bool {
	for tag := range found {
		if tag.w == w && tag.seq == seq {
			return true
		}
	}
	return false
}
