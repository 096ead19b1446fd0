package bench

import (
	"context"
	"time"

	"github.com/folio-p2p/folio/book"
)

// asyncBlock is how many appends append-batch --async keeps pipelined
// before the baseline commits as many: nothing of folio's runs while the
// baseline is timed, at the cost of one pipeline fill per block.
const asyncBlock = 16

// benchAppendAsyncVsRaw is benchAppendVsRaw for a sequential writer using
// book.AppendAsync with one append in flight while the next is hashed:
// in blocks of asyncBlock appends, the baseline commits the block's
// batches, then folio appends them. Folio's latencies are from each call
// to its result; wall is folio's own time, from which its rate comes
// (latencies overlap, so their sum is not the time taken).
func benchAppendAsyncVsRaw(ctx context.Context, dir string, c BenchConfig, r *BenchResult) (lat, base []time.Duration, wall time.Duration, _ error) {
	d, b, err := openBench(dir, c)
	if err != nil {
		return nil, nil, 0, err
	}
	defer d.Close()
	raw, err := openRawBook(dir+"-baseline", c)
	if err != nil {
		return nil, nil, 0, err
	}
	defer raw.close()
	pages := randomPages(c.Pages, c.Size)
	lat = make([]time.Duration, 0, c.Pages/c.Batch+1)
	base = make([]time.Duration, 0, c.Pages/c.Batch+1)
	for lo := 0; lo < len(pages); lo += asyncBlock * c.Batch {
		hi := min(lo+asyncBlock*c.Batch, len(pages))
		for i := lo; i < hi; i += c.Batch {
			t := time.Now()
			if err := raw.commit(pages[i:min(i+c.Batch, hi)], uint64(i)); err != nil {
				return nil, nil, 0, err
			}
			base = append(base, time.Since(t))
		}
		t0 := time.Now()
		if lat, err = appendPipelined(ctx, b, pages[lo:hi], c.Batch, lat); err != nil {
			return nil, nil, 0, err
		}
		wall += time.Since(t0)
	}
	m, err := d.Metrics()
	if err != nil {
		return nil, nil, 0, err
	}
	r.setStalls(m, raw.stalls.Metrics())
	return lat, base, wall, nil
}

// appendPipelined appends pages in batches with AppendAsync, starting each
// batch before waiting for the one before it, and adds each batch's
// latency (call to result) to lat.
func appendPipelined(ctx context.Context, b *book.Book, pages [][]byte, batch int, lat []time.Duration) ([]time.Duration, error) {
	var prev *book.PendingAppend
	var prevT time.Time
	for i := 0; i <= len(pages); i += batch {
		var p *book.PendingAppend
		t := time.Now()
		if i < len(pages) {
			p = b.AppendAsync(ctx, book.AppendOptions{}, pages[i:min(i+batch, len(pages))]...)
		}
		if prev != nil {
			if _, err := prev.Wait(ctx); err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(prevT))
		}
		prev, prevT = p, t
	}
	return lat, nil
}
