package book

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// ApplyProof verifies a proof from elsewhere and, only if it verifies,
// stores what it proves (page, nodes, signed head) in one atomic batch.
// This is how a read-only book grows; replication calls it. The author's
// signature is stored as received: nothing is ever re-signed.
//
// A proof that fails leaves the book unchanged and returns an error
// matching ErrVerify, ErrStale or ErrTooLarge. Two valid heads that
// disagree freeze the book, keep both heads as evidence and return an
// error matching ErrEquivocation.
func (b *Book) ApplyProof(ctx context.Context, p *Proof) error {
	return b.ApplyProofWith(ctx, p, ApplyOptions{})
}

// ApplyOptions adjusts one ApplyProof. The zero value stores with the
// book's default durability, like an append.
type ApplyOptions struct {
	// Sync overrides the book's durability for this proof. SyncOff is for
	// a replica that can fetch the pages again: a crash may lose the proof
	// (and, Pebble's log being ordered, every later unsynced one), never
	// tear it, and leaves the book at an earlier verified head. Its owner
	// must then sync soon (db syncs replicated pages within
	// Options.ReplicatedSyncDelay), and any synced write after it makes it
	// durable too.
	Sync SyncMode
}

// ApplyProofWith is ApplyProof with options.
func (b *Book) ApplyProofWith(ctx context.Context, p *Proof, o ApplyOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Paced like an append, before the lock: replicated pages fill the
	// same memtables (a proof that then fails verification has waited
	// for nothing, which only a faulty or hostile peer causes).
	if err := b.opts.pace(ctx, p.storeSize()); err != nil {
		return fmt.Errorf("book %s: store proof: %w", b.name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkOpen(); err != nil {
		return err
	}
	if b.secret != nil {
		return fmt.Errorf("book %s: %w: the author's own book takes no proofs", b.name, ErrVerify)
	}
	cur := b.state.Load()
	if cur.frozen {
		return fmt.Errorf("book %s: %w", b.name, ErrFrozen)
	}
	known := func(i uint64) (Node, bool) {
		n, err := getNode(b.pdb, b.keys, i)
		return n, err == nil
	}
	if b.vkey == nil {
		b.vkey = newVerifyKey(b.key) // (under b.mu) once: most books never verify a proof
	}
	v, err := verifyProof(b.vkey, cur.head, cur.signed, known, p, b.opts.MaxPageSize, b.opts.MaxBatchPages)
	var eq *EquivocationError
	switch {
	case errors.As(err, &eq):
		return b.freeze(eq)
	case err != nil:
		if !errors.Is(err, ErrStale) {
			b.opts.EventListener.verificationFailed(VerifyFailure{Book: b.name, Err: err})
		}
		return fmt.Errorf("book %s: %w", b.name, err)
	}
	return b.store(cur, v, o.Sync)
}

// store writes a verified proof. Call with b.mu held.
func (b *Book) store(cur *state, v *verified, sync SyncMode) error {
	batch := b.pdb.NewBatch()
	defer batch.Close()
	if v.forked {
		// A new fork voids what was verified under the old one, but for
		// the prefix the two trees share (forkkeep.go).
		if err := dropFrom(batch, b.keys, keptPrefix(b.pdb, b.keys, v.head)); err != nil {
			return err
		}
	}
	for _, n := range v.nodes {
		if depth(n.Index) == 0 && v.page != nil && n.Index == v.leaf.Index {
			continue
		}
		putNode(batch, b.keys, n)
	}
	if v.page != nil {
		putPage(batch, b.keys, v.page.Index, v.leaf.Hash, v.page.Value)
	}
	if v.rng != nil {
		for i, val := range v.rng.Values {
			putPage(batch, b.keys, v.rng.Start+uint64(i), v.leaves[i].Hash, val)
		}
	}
	next := cur
	if v.head != nil {
		next = &state{head: v.head, signed: true}
		if err := batch.Set(b.keys.head(), encodeHead(v.head, false), nil); err != nil {
			return err
		}
	}
	if err := batch.Commit(b.opts.writeOptions(sync)); err != nil {
		return fmt.Errorf("book %s: store proof: %w", b.name, err)
	}
	b.setState(next)
	switch {
	case v.forked:
		b.opts.EventListener.truncated(TruncateInfo{Book: b.name, Fork: next.head.Fork, Length: next.head.Length})
	case next.head.Length > cur.head.Length:
		b.opts.EventListener.appended(AppendInfo{Book: b.name, Fork: next.head.Fork, Start: cur.head.Length,
			Length: next.head.Length, ByteLength: next.head.ByteLength})
	}
	return nil
}

// freeze records equivocation evidence and stops the book. Call with b.mu held.
func (b *Book) freeze(eq *EquivocationError) error {
	cur := b.state.Load()
	batch := b.pdb.NewBatch()
	defer batch.Close()
	seq, err := b.nextEvidence()
	if err != nil {
		return err
	}
	_ = batch.Set(b.keys.evidence(seq), encodeHead(eq.Stored, false), nil)
	_ = batch.Set(b.keys.evidence(seq+1), encodeHead(eq.Other, false), nil)
	_ = batch.Set(b.keys.head(), encodeHead(cur.head, true), nil)
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("book %s: record equivocation: %w", b.name, err)
	}
	b.setState(&state{head: cur.head, signed: cur.signed, frozen: true})
	b.opts.EventListener.equivocation(EquivocationInfo{Book: b.name, Stored: eq.Stored, Other: eq.Other})
	return fmt.Errorf("book %s: %w", b.name, eq)
}

// nextEvidence returns the first free evidence sequence number.
func (b *Book) nextEvidence() (uint64, error) {
	start, end := b.keys.span(tagEvidence)
	it, err := b.pdb.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, it.Error()
	}
	return keyIndex(it.Key()) + 1, nil
}

// Evidence returns the signed heads kept after an equivocation, in pairs.
func (b *Book) Evidence() ([]*Head, error) {
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	start, end := b.keys.span(tagEvidence)
	it, err := b.pdb.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*Head
	for it.First(); it.Valid(); it.Next() {
		h, _, err := decodeHead(it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, it.Error()
}
