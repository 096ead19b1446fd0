package db

import (
	"context"
	"runtime"
	"testing"

	"github.com/folio-p2p/folio/book"
)

// TestHeapFlatWithPages checks that the Go heap does not grow with the
// number of pages appended: a book keeps only its head in memory, and
// Pebble's memtables and cache live outside the Go heap.
func TestHeapFlatWithPages(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t.TempDir(), &Options{NoSync: true, MemTableSize: 4 << 20, CacheSize: 8 << 20})
	b, err := d.Book(ctx, "heap")
	if err != nil {
		t.Fatal(err)
	}
	page := make([]byte, 256)
	batch := make([][]byte, 500)
	for i := range batch {
		batch[i] = page
	}
	appendN := func(n int) {
		for range n / len(batch) {
			if _, err := b.AppendWith(ctx, book.AppendOptions{Sync: book.SyncOff}, batch...); err != nil {
				t.Fatal(err)
			}
		}
	}
	heap := func() uint64 {
		// Settle Pebble first: a compaction in flight holds buffers that
		// have nothing to do with the number of pages.
		if err := d.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	appendN(20_000)
	before := heap()
	appendN(200_000)
	after := heap()
	t.Logf("heap after 20k pages: %d KiB; after 220k pages: %d KiB", before>>10, after>>10)
	// 200,000 more pages: anything kept per page (even 8 bytes) would add
	// over 1.5 MiB. Allow 1 MiB of noise.
	if after > before+1<<20 {
		t.Fatalf("heap grew from %d to %d bytes over 200,000 pages", before, after)
	}
	if b.Length() != 220_000 {
		t.Fatalf("length %d, want 220000", b.Length())
	}
}
