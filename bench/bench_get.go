package bench

import (
	"context"
	"fmt"
	mrand "math/rand/v2"

	"github.com/folio-p2p/folio/book"
)

// warmPages reads pages [0, n) of b once, through one snapshot iterator,
// and checks that each is there.
func warmPages(b *book.Book, n uint64) error {
	s, err := b.Snapshot()
	if err != nil {
		return err
	}
	defer s.Close()
	var next uint64
	err = s.Pages(0, n, func(i uint64, _ []byte) error {
		if i != next {
			return fmt.Errorf("warm-up: page %d missing", next)
		}
		next++
		return nil
	})
	if err == nil && next != n {
		err = fmt.Errorf("warm-up: read %d of %d pages", next, n)
	}
	return err
}

// warmGetCount bounds warmGets: enough Gets to bring the Go heap to its
// steady state (its pages touched, the GC paced by a reading process), few
// enough to cost seconds at a million pages.
const warmGetCount = 100_000

// warmGets makes min(n, warmGetCount) untimed random local Gets of pages
// [0, n), with another sequence than the timed one. After the iterator's
// pass the block cache is warm but the Go heap is not: the first 100,000
// Gets of a fresh process ran ~1.5× slower (the GC pacing and first-touch
// page faults of a new heap; with GOGC=off two warm-ups measured alike),
// which is a process's start-up, not a read's cost. hypercore's side warms
// with a get loop, which warms its heap as well.
func warmGets(ctx context.Context, b *book.Book, n uint64) error {
	rng := mrand.New(mrand.NewPCG(5, 6))
	local := &book.GetOptions{LocalOnly: true}
	for range min(n, warmGetCount) {
		if _, err := b.Get(ctx, rng.Uint64N(n), local); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	return nil
}
