package book

import (
	"context"
	"crypto/rand"
	"testing"
)

// Appends to a real Pebble on disk without sync, as `folio bench
// append-single` and `append-batch` do; these report the allocations of
// an append, which the CLI benchmarks do not.

func BenchmarkAppendSingle(b *testing.B) { benchmarkAppend(b, 1) }
func BenchmarkAppendBatch(b *testing.B)  { benchmarkAppend(b, 1000) }

func benchmarkAppend(b *testing.B, batch int) {
	ctx := context.Background()
	bk := newWriter(b, openPebble(b), "b/", 7, &Options{NoSync: true})
	buf := make([]byte, 64*batch<<10)
	rand.Read(buf)
	pages := make([][]byte, batch)
	b.SetBytes(int64(batch) << 10)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		off := (i % 64) * batch << 10 // vary the pages without generating them in the loop
		for j := range pages {
			pages[j] = buf[off+j<<10 : off+(j+1)<<10]
		}
		if _, err := bk.Append(ctx, pages...); err != nil {
			b.Fatal(err)
		}
	}
}
