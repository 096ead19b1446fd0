package book

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Clear deletes the stored pages in [start, end) with one range deletion,
// keeping their leaf hashes so that proofs of other pages still work. The
// book's length and head do not change; Has reports false for the cleared
// pages and Get waits for them again (a reader may fetch them back from
// peers). Disk space returns when Pebble compacts the range.
func (b *Book) Clear(ctx context.Context, start, end uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkOpen(); err != nil {
		return err
	}
	if end > b.state.Load().head.Length {
		end = b.state.Load().head.Length
	}
	if start >= end {
		return nil
	}
	batch := b.pdb.NewBatch()
	defer batch.Close()
	it, err := b.pdb.NewIter(&pebble.IterOptions{LowerBound: b.keys.page(start), UpperBound: b.keys.page(end)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		v := it.Value()
		if len(v) < HashSize {
			it.Close()
			return fmt.Errorf("book %s: clear: %w: page record %d", b.name, ErrCorrupt, keyIndex(it.Key()))
		}
		n := Node{Index: 2 * keyIndex(it.Key()), Size: uint64(len(v) - HashSize)}
		copy(n.Hash[:], v)
		putNode(batch, b.keys, n)
	}
	if err := it.Close(); err != nil {
		return err
	}
	if err := batch.DeleteRange(b.keys.page(start), b.keys.page(end), nil); err != nil {
		return err
	}
	if err := batch.Commit(b.opts.writeOptions(SyncDefault)); err != nil {
		return fmt.Errorf("book %s: clear: %w", b.name, err)
	}
	return nil
}

// Compact asks Pebble to compact the book's whole key range, so that
// deleted and cleared pages give their space back now.
func (b *Book) Compact(ctx context.Context) error {
	if err := b.checkOpen(); err != nil {
		return err
	}
	start, end := b.keys.all()
	return b.pdb.Compact(ctx, start, end, true)
}
