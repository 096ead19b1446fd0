package book

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// AppendResult is the state after an append.
type AppendResult struct {
	Length     uint64 // pages in the book, including this batch
	ByteLength uint64 // bytes in the book, including this batch
}

// Append appends pages as one batch: one atomic Pebble batch and one
// signature. It returns once the batch is durable (see Options.NoSync).
func (b *Book) Append(ctx context.Context, pages ...[]byte) (AppendResult, error) {
	return b.AppendWith(ctx, AppendOptions{}, pages...)
}

// AppendWith is Append with per-call options.
func (b *Book) AppendWith(ctx context.Context, o AppendOptions, pages ...[]byte) (AppendResult, error) {
	if err := b.checkAppend(pages); err != nil {
		return AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return AppendResult{}, err
	}
	// This call follows the async appends made before it, so it expects
	// the length they leave.
	start, prev := b.Length(), b.asyncTailNow()
	if prev != nil {
		start = prev.end
	}
	// Outside the lock: the expensive part. A writer appending meanwhile
	// moves the length, and commitLocked then rebuilds the batch.
	pr := b.prepare(start, pages)
	if prev != nil {
		select {
		case <-prev.done:
		case <-ctx.Done(): // nothing written: the async appends go on
			pr.close()
			return AppendResult{}, ctx.Err()
		}
	}
	if err := b.opts.pace(ctx, pr.size()); err != nil {
		pr.close()
		return AppendResult{}, fmt.Errorf("book %s: append: %w", b.name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.commitLocked(o, pr)
}

// commitLocked joins a prepared batch to the tree, signs the new head and
// commits, and closes pr. A batch prepared for another length than the
// book's (another writer appended meanwhile) is rebuilt here from its
// leaf hashes. Call with b.mu held.
func (b *Book) commitLocked(o AppendOptions, pr *prepared) (AppendResult, error) {
	defer func() { pr.close() }()
	if err := b.checkWritable(); err != nil {
		return AppendResult{}, err
	}
	old := b.state.Load()
	if o.CheckLength && old.head.Length != o.ExpectedLength {
		return AppendResult{}, fmt.Errorf("%w: length is %d, expected %d", ErrLengthChanged, old.head.Length, o.ExpectedLength)
	}
	if len(pr.pages) == 0 {
		return AppendResult{Length: old.head.Length, ByteLength: old.head.ByteLength}, nil
	}
	if pr.start != old.head.Length {
		pr.close()
		pr = b.rebuild(old.head.Length, pr)
	}
	head, parents := mergeTops(old.head, pr.tops, uint64(len(pr.pages)))
	b.sign(head)
	batch := pr.batch
	for _, n := range parents {
		putNode(batch, b.keys, n)
	}
	if err := batch.Set(b.keys.head(), encodeHead(head, false), nil); err != nil {
		return AppendResult{}, err
	}
	if err := batch.Commit(b.opts.writeOptions(o.Sync)); err != nil {
		return AppendResult{}, fmt.Errorf("book %s: append: %w", b.name, err)
	}
	b.setState(&state{head: head, signed: true, recent: newRecent(old.head, pr, parents)})
	b.opts.EventListener.appended(AppendInfo{Book: b.name, Fork: head.Fork, Start: old.head.Length,
		Length: head.Length, ByteLength: head.ByteLength, Local: true})
	return AppendResult{Length: head.Length, ByteLength: head.ByteLength}, nil
}

// rebuild returns pr's pages prepared at length start, reusing their leaf
// hashes: the leaves become the tops, and mergeTops makes every parent.
func (b *Book) rebuild(start uint64, pr *prepared) *prepared {
	np := &prepared{start: start, pages: pr.pages, leaves: pr.leaves}
	np.batch = b.pdb.NewBatchWithSize(batchSize(pr.pages, len(pr.pages)+maxRoots), pebble.WithMaxRetainedSizeBytes(batchRetain))
	for i := range np.leaves {
		np.leaves[i].Index = 2 * (start + uint64(i))
		putPage(np.batch, b.keys, start+uint64(i), np.leaves[i].Hash, np.pages[i])
	}
	np.tops = np.leaves
	return np
}

func (b *Book) checkWritable() error {
	if err := b.checkOpen(); err != nil {
		return err
	}
	if b.secret == nil {
		return fmt.Errorf("book %s: %w", b.name, ErrReadOnly)
	}
	if b.state.Load().frozen {
		return fmt.Errorf("book %s: %w", b.name, ErrFrozen)
	}
	return nil
}

// checkAppend refuses oversize input before anything is hashed or written.
func (b *Book) checkAppend(pages [][]byte) error {
	if err := b.checkWritable(); err != nil {
		return err
	}
	if len(pages) > b.opts.MaxBatchPages {
		return fmt.Errorf("%w: batch of %d pages, limit %d", ErrTooLarge, len(pages), b.opts.MaxBatchPages)
	}
	total := 0
	for i, p := range pages {
		if len(p) > b.opts.MaxPageSize {
			return fmt.Errorf("%w: page %d of the batch is %d bytes, limit %d", ErrTooLarge, i, len(p), b.opts.MaxPageSize)
		}
		total += len(p)
	}
	if total > b.opts.MaxBatchBytes {
		return fmt.Errorf("%w: batch of %d bytes, limit %d", ErrTooLarge, total, b.opts.MaxBatchBytes)
	}
	return nil
}

// sign fills h.Signature with the author's signature.
func (b *Book) sign(h *Head) {
	s := h.Signable()
	copy(h.Signature[:], ed25519.Sign(b.secret, s[:]))
}

// grow returns the unsigned head after appending leaves to h, and the new
// parent nodes. Leaves carry sizes and hashes; their indices are assigned
// here. It is pure: the deterministic core of Append.
func grow(h *Head, leaves []Node) (*Head, []Node) {
	for i := range leaves {
		leaves[i].Index = 2 * (h.Length + uint64(i))
	}
	return mergeTops(h, leaves, uint64(len(leaves)))
}

// hashLeaves returns the leaf node (size and hash, no index) of each page.
func hashLeaves(pages [][]byte) []Node {
	out := make([]Node, len(pages))
	total := 0
	for _, p := range pages {
		total += len(p)
	}
	workers := runtime.GOMAXPROCS(0)
	if total < parallelHashBytes || workers < 2 || len(pages) < 2 {
		hashRange(pages, out)
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(pages) + workers - 1) / workers
	for lo := 0; lo < len(pages); lo += chunk {
		hi := min(lo+chunk, len(pages))
		wg.Go(func() { hashRange(pages[lo:hi], out[lo:hi]) })
	}
	wg.Wait()
	return out
}

func hashRange(pages [][]byte, out []Node) {
	for i, p := range pages {
		out[i] = Node{Size: uint64(len(p)), Hash: LeafHash(p)}
	}
}

// batchRetain is the largest batch buffer Pebble's batch pool keeps for the
// next append. Its default (1 MiB) is just below a batch of 1,000 pages of
// 1 KiB, so each such append allocated (and zeroed) a fresh buffer of over
// 1 MiB. The pool is a sync.Pool, so an idle buffer is dropped within two
// garbage collections: keeping larger ones costs memory only while
// appending. Batches past this (up to MaxBatchBytes) are still allocated.
const batchRetain = 8 << 20

// batchSize estimates a batch's encoded size, so it is allocated once
// rather than grown (and copied) as records are added.
func batchSize(pages [][]byte, parents int) int {
	const perRecord = 1 + 2*binary.MaxVarintLen32 + 32 // kind, lengths, prefix and index
	n := 12 + headFixedSize + maxRoots*rootRecordSize + perRecord
	for _, p := range pages {
		n += perRecord + HashSize + len(p)
	}
	return n + parents*(perRecord+nodeValueSize)
}

// putPage writes the record of page i (leaf hash ‖ bytes), its key
// written straight into the batch: no key is allocated per page.
func putPage(batch *pebble.Batch, k keys, i uint64, leaf [32]byte, page []byte) {
	op := batch.SetDeferred(k.indexedLen(), HashSize+len(page))
	k.putIndexed(op.Key, tagPage, i)
	copy(op.Value, leaf[:])
	copy(op.Value[HashSize:], page)
	op.Finish()
}

// putNode writes a tree node record.
func putNode(batch *pebble.Batch, k keys, n Node) {
	op := batch.SetDeferred(k.indexedLen(), nodeValueSize)
	k.putIndexed(op.Key, tagNode, n.Index)
	appendNodeValue(op.Value[:0], n)
	op.Finish()
}
