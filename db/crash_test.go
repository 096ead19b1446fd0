package db

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/folio-p2p/folio/book"
)

// Crash tests: writers append to books on Pebble's crash-simulating memory
// filesystem; at a random moment the filesystem is crash-cloned (synced
// data kept, a random share of unsynced blocks and directory entries kept
// too) and the clone is opened as a DB would be after a power cut.

const (
	crashBooks   = 3
	crashWriters = 2 // per book, so writers race for each book
)

func TestCrashSyncedAppendsSurvive(t *testing.T) {
	runCrashes(t, "FOLIO_CRASH_SEED", false, crashIters(t, 40, 12))
}

func TestCrashNoSyncKeepsWholeBatches(t *testing.T) {
	runCrashes(t, "FOLIO_CRASH_NOSYNC_SEED", true, crashIters(t, 25, 8))
}

// crashIters returns how many crashes to simulate: FOLIO_CRASH_ITERS when
// set, else def (or short under -short).
func crashIters(t *testing.T, def, short int) int {
	if v := os.Getenv("FOLIO_CRASH_ITERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if testing.Short() {
		return short
	}
	return def
}

func runCrashes(t *testing.T, env string, noSync bool, iters int) {
	base := testSeed(t, env, 0)
	for i := range iters {
		seed := base + uint64(i)
		if !t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { crashOnce(t, seed, noSync) }) {
			t.Fatalf("failed at seed %d; replay with %s=%d FOLIO_CRASH_ITERS=1", seed, env, seed)
		}
	}
}

// crashPage returns page idx of batch seq (of n pages) by writer w of book
// bk: a 16-byte header naming it, then filler that depends on all of them,
// so every page found after a crash can be checked on its own.
func crashPage(bk, w int, seq uint32, idx, n, size int) []byte {
	p := make([]byte, 16+size)
	p[0], p[1], p[2] = 'F', byte(bk), byte(w)
	binary.LittleEndian.PutUint32(p[3:], seq)
	p[7], p[8] = byte(idx), byte(n)
	binary.LittleEndian.PutUint32(p[9:], uint32(size))
	r := rand.New(rand.NewPCG(uint64(bk)<<40|uint64(w)<<32|uint64(seq), uint64(idx)))
	for i := 16; i < len(p); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], r.Uint64())
		copy(p[i:], b[:])
	}
	return p
}

// decodeCrashPage parses a crash page header and checks its filler.
func decodeCrashPage(bk int, p []byte) (w int, seq uint32, idx, n int, err error) {
	if len(p) < 16 || p[0] != 'F' || int(p[1]) != bk {
		return 0, 0, 0, 0, fmt.Errorf("not a page of book %d: %.16x", bk, p)
	}
	w, seq, idx, n = int(p[2]), binary.LittleEndian.Uint32(p[3:]), int(p[7]), int(p[8])
	size := int(binary.LittleEndian.Uint32(p[9:]))
	if !bytes.Equal(p, crashPage(bk, w, seq, idx, n, size)) {
		return 0, 0, 0, 0, fmt.Errorf("page (writer %d, batch %d, page %d) has wrong bytes", w, seq, idx)
	}
	return w, seq, idx, n, nil
}

// acked is an append that returned: batch seq of writer w ends at length.
type acked struct {
	book, writer int
	seq          uint32
	n            int
	length       uint64
}

type crashRun struct {
	t      *testing.T
	ctx    context.Context
	noSync bool
	d      *DB
	books  [crashBooks]*book.Book

	mu    sync.Mutex
	acks  []acked
	count atomic.Int64
	stop  atomic.Bool
	errs  chan error
}

func crashOnce(t *testing.T, seed uint64, noSync bool) {
	rng := rand.New(rand.NewPCG(seed, 7))
	fs := vfs.NewCrashableMem()
	opts := &Options{FS: fs, NoSync: noSync, MemTableSize: uint64(64<<10 + rng.IntN(512<<10))}
	d, err := Open("/db", opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &crashRun{t: t, ctx: context.Background(), noSync: noSync, d: d, errs: make(chan error, crashBooks*crashWriters)}
	for i := range r.books {
		if r.books[i], err = d.Book(r.ctx, fmt.Sprintf("book-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for bk := range crashBooks {
		for w := range crashWriters {
			wseed := rng.Uint64()
			wg.Go(func() { r.write(bk, w, wseed) })
		}
	}
	// Crash after a random number of appends returned, plus a little more.
	target := int64(rng.IntN(250))
	for r.count.Load() < target && len(r.errs) == 0 {
		runtime.Gosched()
	}
	for range rng.IntN(200) {
		runtime.Gosched()
	}
	r.mu.Lock()
	before := append([]acked(nil), r.acks...)
	r.mu.Unlock()
	percent := []int{0, 0, 10, 50, 90, 100}[rng.IntN(6)]
	clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: percent, RNG: rand.New(rand.NewPCG(seed, 11))})
	r.stop.Store(true)
	wg.Wait()
	close(r.errs)
	for err := range r.errs {
		t.Fatalf("append before the crash: %v", err)
	}
	var final [crashBooks][][]byte // every page as the writers left them
	for i, b := range r.books {
		final[i] = readAll(t, b, b.Length())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	written := 0
	for _, f := range final {
		written += len(f)
	}
	recovered := r.checkRecovered(clone, before, final)
	t.Logf("crash after %d acknowledged appends (%d in all), %d%% of unsynced data kept: %d of %d pages recovered",
		len(before), r.count.Load(), percent, recovered, written)
}

// write appends batches to book bk as writer w until told to stop.
func (r *crashRun) write(bk, w int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, uint64(w)))
	b := r.books[bk]
	for seq := uint32(0); !r.stop.Load() && seq < 400; seq++ {
		n := 1 + rng.IntN(4)
		pages := make([][]byte, n)
		for i := range pages {
			size := rng.IntN(1500)
			if rng.IntN(40) == 0 {
				size = 33_000 + rng.IntN(40_000) // spans WAL blocks
			}
			pages[i] = crashPage(bk, w, seq, i, n, size)
		}
		res, err := b.Append(r.ctx, pages...)
		if err != nil {
			r.errs <- fmt.Errorf("book %d writer %d batch %d: %w", bk, w, seq, err)
			return
		}
		r.mu.Lock()
		r.acks = append(r.acks, acked{book: bk, writer: w, seq: seq, n: n, length: res.Length})
		r.mu.Unlock()
		r.count.Add(1)
	}
}

// readAll returns the first n pages of b.
func readAll(t *testing.T, b *book.Book, n uint64) [][]byte {
	t.Helper()
	pages := make([][]byte, n)
	for i := range pages {
		p, err := b.Get(context.Background(), uint64(i), &book.GetOptions{LocalOnly: true})
		if err != nil {
			t.Fatalf("%s: page %d of %d: %v", b.Name(), i, n, err)
		}
		pages[i] = p
	}
	return pages
}

// checkRecovered opens the crashed filesystem and checks every book: its
// pages are a prefix of what the writers wrote, made of whole batches; with
// sync every acknowledged batch is there at the length it was given; the
// stored head verifies (Open checks it) and the book audits clean.
func (r *crashRun) checkRecovered(clone vfs.FS, acks []acked, final [crashBooks][][]byte) (recovered uint64) {
	t := r.t
	d, err := Open("/db", &Options{FS: clone})
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	defer d.Close()
	for bk := range crashBooks {
		name := fmt.Sprintf("book-%d", bk)
		in, err := d.LookupName(name)
		if err != nil || !in.Key.Equal(r.books[bk].Key()) {
			t.Fatalf("catalogue lost %s (registered with sync): %v", name, err)
		}
		b, err := d.Book(r.ctx, name)
		if err != nil {
			t.Fatalf("open %s after crash: %v", name, err)
		}
		n := b.Length()
		if n > uint64(len(final[bk])) {
			t.Fatalf("%s: recovered length %d, only %d pages were written", name, n, len(final[bk]))
		}
		pages := readAll(t, b, n)
		for i, p := range pages {
			if !bytes.Equal(p, final[bk][i]) {
				t.Fatalf("%s: recovered page %d differs from the page written there", name, i)
			}
		}
		checkWholeBatches(t, bk, pages)
		var bytesWant uint64
		for _, p := range pages {
			bytesWant += uint64(len(p))
		}
		if b.ByteLength() != bytesWant || b.Fork() != 0 {
			t.Fatalf("%s: byte length %d fork %d, pages sum to %d", name, b.ByteLength(), b.Fork(), bytesWant)
		}
		if h, signed := b.Head(); n > 0 && (!signed || h.Verify(b.Key()) != nil) {
			t.Fatalf("%s: head of length %d does not verify", name, n)
		}
		auditClean(t, b)
		if !r.noSync {
			checkAcked(t, bk, n, pages, acks)
		}
		recovered += n
	}
	return recovered
}

// checkWholeBatches checks that pages are whole batches, one after another.
func checkWholeBatches(t *testing.T, bk int, pages [][]byte) {
	t.Helper()
	for i := 0; i < len(pages); {
		w, seq, idx, n, err := decodeCrashPage(bk, pages[i])
		if err != nil || idx != 0 {
			t.Fatalf("book %d: page %d does not start a batch: %v (index in batch %d)", bk, i, err, idx)
		}
		if i+n > len(pages) {
			t.Fatalf("book %d: batch %d of writer %d torn: %d of its %d pages recovered", bk, seq, w, len(pages)-i, n)
		}
		for j := 1; j < n; j++ {
			w2, seq2, idx2, n2, err := decodeCrashPage(bk, pages[i+j])
			if err != nil || w2 != w || seq2 != seq || idx2 != j || n2 != n {
				t.Fatalf("book %d: page %d is not page %d of batch %d of writer %d: %v", bk, i+j, j, seq, w, err)
			}
		}
		i += n
	}
}

// checkAcked checks every append acknowledged before the crash is there.
func checkAcked(t *testing.T, bk int, n uint64, pages [][]byte, acks []acked) {
	t.Helper()
	for _, a := range acks {
		if a.book != bk {
			continue
		}
		if a.length > n {
			t.Fatalf("book %d: synced append of batch %d (writer %d) returned length %d, recovered only %d", bk, a.seq, a.writer, a.length, n)
		}
		w, seq, idx, _, err := decodeCrashPage(bk, pages[a.length-uint64(a.n)])
		if err != nil || w != a.writer || seq != a.seq || idx != 0 {
			t.Fatalf("book %d: acknowledged batch %d of writer %d is not at %d: %v", bk, a.seq, a.writer, a.length-uint64(a.n), err)
		}
	}
}
