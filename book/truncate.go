package book

import (
	"context"
	"fmt"
)

// Truncate cuts the book to length pages and signs the result in a new
// fork (fork+1), in one atomic batch. Readers learn of the new fork from
// the signed head and drop what it removed.
func (b *Book) Truncate(ctx context.Context, length uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkWritable(); err != nil {
		return err
	}
	old := b.state.Load().head
	if length > old.Length {
		return fmt.Errorf("book %s: %w: truncate to %d, length is %d", b.name, ErrOutOfRange, length, old.Length)
	}
	h := &Head{Fork: old.Fork + 1, Length: length}
	for _, idx := range fullRoots(length) {
		n, err := getNode(b.pdb, b.keys, idx)
		if err != nil {
			return fmt.Errorf("book %s: truncate: %w", b.name, err)
		}
		h.Roots = append(h.Roots, n)
		h.ByteLength += n.Size
	}
	h.TreeHash = TreeHash(h.Roots)
	b.sign(h)
	batch := b.pdb.NewBatch()
	defer batch.Close()
	_, pageEnd := b.keys.span(tagPage)
	_, nodeEnd := b.keys.span(tagNode)
	if err := batch.DeleteRange(b.keys.page(length), pageEnd, nil); err != nil {
		return err
	}
	if err := batch.DeleteRange(b.keys.node(2*length), nodeEnd, nil); err != nil {
		return err
	}
	// The only nodes left of the cut that leave the tree are ancestors of
	// the first removed leaf.
	for d := uint64(1); d < 63; d++ {
		n := nodeIndex(d, length>>d)
		if n < 2*length && !within(n, length) {
			_ = batch.Delete(b.keys.node(n), nil)
		}
		if leftSpan(n) == 0 && rightSpan(n)/2 >= old.Length {
			break // this ancestor spans every page there ever was
		}
	}
	if err := batch.Set(b.keys.head(), encodeHead(h, false), nil); err != nil {
		return err
	}
	if err := batch.Commit(b.opts.writeOptions(SyncDefault)); err != nil {
		return fmt.Errorf("book %s: truncate: %w", b.name, err)
	}
	b.setState(&state{head: h, signed: true})
	b.opts.EventListener.truncated(TruncateInfo{Book: b.name, Fork: h.Fork, Length: h.Length})
	return nil
}
