package book

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// MultiAppend is one book's share of an AppendMulti.
type MultiAppend struct {
	Book  *Book
	Pages [][]byte
	// CheckLength makes the whole AppendMulti fail with ErrLengthChanged
	// unless this book's length is ExpectedLength.
	CheckLength    bool
	ExpectedLength uint64
}

// AppendMulti appends to several writable books that share one Pebble as
// one atomic Pebble batch: after a crash either every book has its new
// pages and signed head or none has. It is one commit (one fsync when
// synced, per sync and the books' Options.NoSync: the batch syncs if any
// book would), and one signature per book, made on every core. Results
// come in the order of parts. A share without pages changes nothing.
//
// Books are locked in the order of their keys, so concurrent AppendMulti
// calls and single appends never deadlock; readers never wait.
func AppendMulti(ctx context.Context, sync SyncMode, parts []MultiAppend) ([]AppendResult, error) {
	if len(parts) == 0 {
		return nil, ctx.Err()
	}
	if err := checkMulti(parts); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	staged := make([]stagedAppend, len(parts))
	size := 0
	for i, pt := range parts {
		staged[i] = stagedAppend{b: pt.Book, pages: pt.Pages, leaves: hashLeaves(pt.Pages)}
		size += batchSize(pt.Pages, 0)
	}
	// The books share one Pebble, so one pacer (if any) speaks for all.
	if err := parts[0].Book.opts.pace(ctx, size); err != nil {
		return nil, fmt.Errorf("book: multi-book append: %w", err)
	}
	unlock := lockInKeyOrder(parts)
	defer unlock()
	for i, pt := range parts {
		if err := staged[i].grow(pt); err != nil {
			return nil, err
		}
	}
	signAll(staged)
	if err := commitStaged(staged, multiWriteOptions(parts, sync)); err != nil {
		return nil, err
	}
	out := make([]AppendResult, len(staged))
	for i := range staged {
		out[i] = staged[i].publish()
	}
	return out, nil
}

// checkMulti refuses an AppendMulti whose books repeat, do not share one
// Pebble, or whose pages are too large, before anything is hashed.
func checkMulti(parts []MultiAppend) error {
	seen := make(map[string]bool, len(parts))
	for i, pt := range parts {
		if pt.Book == nil || pt.Book.pdb != parts[0].Book.pdb || seen[string(pt.Book.key)] {
			return fmt.Errorf("%w: share %d", ErrMultiAppend, i)
		}
		seen[string(pt.Book.key)] = true
		if err := pt.Book.checkAppend(pt.Pages); err != nil {
			return err
		}
	}
	return nil
}

// lockInKeyOrder locks every book's write lock, by key, and returns the
// unlock.
func lockInKeyOrder(parts []MultiAppend) func() {
	bs := make([]*Book, len(parts))
	for i, pt := range parts {
		bs[i] = pt.Book
	}
	slices.SortFunc(bs, func(a, b *Book) int { return bytes.Compare(a.key, b.key) })
	for _, b := range bs {
		b.mu.Lock()
	}
	return func() {
		for i := len(bs) - 1; i >= 0; i-- {
			bs[i].mu.Unlock()
		}
	}
}

func multiWriteOptions(parts []MultiAppend, sync SyncMode) *pebble.WriteOptions {
	for _, pt := range parts {
		if pt.Book.opts.writeOptions(sync) == pebble.Sync {
			return pebble.Sync
		}
	}
	return pebble.NoSync
}

// stagedAppend is one book's append between its lock and its publication.
type stagedAppend struct {
	b       *Book
	pages   [][]byte
	leaves  []Node
	old     *Head
	head    *Head // nil: nothing to append
	parents []Node
}

// grow checks the book (with its lock held) and computes its new,
// unsigned head.
func (s *stagedAppend) grow(pt MultiAppend) error {
	if err := s.b.checkWritable(); err != nil {
		return err
	}
	s.old = s.b.state.Load().head
	if pt.CheckLength && s.old.Length != pt.ExpectedLength {
		return fmt.Errorf("%w: book %s: length is %d, expected %d", ErrLengthChanged, s.b.name, s.old.Length, pt.ExpectedLength)
	}
	if len(s.pages) > 0 {
		s.head, s.parents = grow(s.old, s.leaves)
	}
	return nil
}

// signAll signs every staged head, spread over the cores: the signatures
// are most of a small append's CPU.
func signAll(staged []stagedAppend) {
	workers := min(runtime.GOMAXPROCS(0), len(staged))
	if workers < 2 {
		for i := range staged {
			staged[i].sign()
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (len(staged) + workers - 1) / workers
	for lo := 0; lo < len(staged); lo += chunk {
		hi := min(lo+chunk, len(staged))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				staged[i].sign()
			}
		})
	}
	wg.Wait()
}

func (s *stagedAppend) sign() {
	if s.head == nil {
		return
	}
	sig := s.head.Signable()
	copy(s.head.Signature[:], ed25519.Sign(s.b.secret, sig[:]))
}

// commitStaged writes every staged append into one Pebble batch and
// commits it.
func commitStaged(staged []stagedAppend, wo *pebble.WriteOptions) error {
	size := 0
	for _, s := range staged {
		if s.head != nil {
			size += batchSize(s.pages, len(s.parents))
		}
	}
	batch := staged[0].b.pdb.NewBatchWithSize(size)
	defer batch.Close()
	for _, s := range staged {
		if s.head == nil {
			continue
		}
		for i, p := range s.pages {
			putPage(batch, s.b.keys, s.old.Length+uint64(i), s.leaves[i].Hash, p)
		}
		for _, n := range s.parents {
			putNode(batch, s.b.keys, n)
		}
		if err := batch.Set(s.b.keys.head(), encodeHead(s.head, false), nil); err != nil {
			return err
		}
	}
	if err := batch.Commit(wo); err != nil {
		return fmt.Errorf("book: multi-book append: %w", err)
	}
	return nil
}

// publish makes the committed append visible and reports it.
func (s *stagedAppend) publish() AppendResult {
	if s.head == nil {
		return AppendResult{Length: s.old.Length, ByteLength: s.old.ByteLength}
	}
	s.b.setState(&state{head: s.head, signed: true})
	s.b.opts.EventListener.appended(AppendInfo{Book: s.b.name, Fork: s.head.Fork, Start: s.old.Length,
		Length: s.head.Length, ByteLength: s.head.ByteLength, Local: true})
	return AppendResult{Length: s.head.Length, ByteLength: s.head.ByteLength}
}
