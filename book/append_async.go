package book

import (
	"context"
	"fmt"
)

// PendingAppend is an append started by AppendAsync: its result, once the
// batch is committed (durable per its sync mode) or has failed.
type PendingAppend struct {
	b     *Book
	done  chan struct{}
	start uint64 // the length this append expects to find
	end   uint64 // start plus its pages: where the next async append starts
	res   AppendResult
	err   error
}

// Done is closed once the append has committed or failed.
func (p *PendingAppend) Done() <-chan struct{} { return p.done }

// Wait returns the append's result once it has committed or failed, or
// ctx's error if ctx ends first (the append itself goes on). Returning a
// failure lets later AppendAsync calls go ahead again (see AppendAsync).
func (p *PendingAppend) Wait(ctx context.Context) (AppendResult, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return AppendResult{}, ctx.Err()
	}
	if p.err != nil {
		p.b.asyncMu.Lock()
		if p.b.asyncFailed == p {
			p.b.asyncFailed = nil
		}
		p.b.asyncMu.Unlock()
	}
	return p.res, p.err
}

// AppendAsync starts appending pages as one batch, like AppendWith, and
// returns at once. A sequential writer calls it again while the previous
// batch commits: the next batch's pages are hashed and copied into its
// Pebble batch meanwhile, leaving only the tree's new parents, the
// signature and the commit on the ordered path.
//
// Order: the async appends of a book commit one after another in the
// order of the calls, and a batch commits only if every async append
// made before it committed. When one fails (bad input, ctx done before
// its commit, the book closed, another goroutine appended meanwhile),
// those already pending behind it fail with ErrAsyncFailed and write
// nothing, and so does every later call until Wait has returned the
// failure and those behind it have finished (a caller that waits for
// each of its pending appends after a failure can go on). Append and
// AppendWith wait for the async appends made before them, so one
// goroutine's appends keep the order of its calls.
//
// Durability: each batch is committed with o's sync mode, and its result
// is ready only after that. A crash keeps a prefix of the batches, in
// order and whole; with sync on, at least every batch whose result was
// ready.
func (b *Book) AppendAsync(ctx context.Context, o AppendOptions, pages ...[]byte) *PendingAppend {
	p := &PendingAppend{b: b, done: make(chan struct{})}
	b.asyncMu.Lock()
	defer b.asyncMu.Unlock()
	if f := b.asyncFailed; f != nil {
		p.err = fmt.Errorf("book %s: %w: %w", b.name, ErrAsyncFailed, f.err)
		close(p.done)
		return p
	}
	if err := b.checkAppend(pages); err != nil {
		p.err, b.asyncFailed = err, p
		close(p.done)
		return p
	}
	prev := b.asyncTail
	p.start = b.Length()
	if prev != nil {
		p.start = prev.end
	}
	p.end = p.start + uint64(len(pages))
	b.asyncTail = p
	go b.runAsync(ctx, o, p, prev, pages)
	return p
}

// runAsync performs one async append: the hashing and page records at
// once, the commit after prev's.
func (b *Book) runAsync(ctx context.Context, o AppendOptions, p, prev *PendingAppend, pages [][]byte) {
	pr := b.prepare(p.start, pages)
	if prev != nil {
		<-prev.done
	}
	var res AppendResult
	var err error
	if prev != nil && prev.err != nil {
		pr.close()
		err = fmt.Errorf("book %s: %w: %w", b.name, ErrAsyncFailed, prev.err)
	} else {
		res, err = b.commitAsync(ctx, o, p, pr)
	}
	b.asyncMu.Lock()
	if b.asyncTail == p {
		b.asyncTail = nil
	}
	if err != nil && b.asyncFailed == nil && (prev == nil || prev.err == nil) {
		b.asyncFailed = p // the first failure; those behind it follow from it
	}
	p.res, p.err = res, err
	close(p.done)
	b.asyncMu.Unlock()
}

func (b *Book) commitAsync(ctx context.Context, o AppendOptions, p *PendingAppend, pr *prepared) (AppendResult, error) {
	if err := ctx.Err(); err != nil {
		pr.close()
		return AppendResult{}, err
	}
	if err := b.opts.pace(ctx, pr.size()); err != nil {
		pr.close()
		return AppendResult{}, fmt.Errorf("book %s: async append: %w", b.name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := b.state.Load().head.Length; n != p.start {
		pr.close()
		return AppendResult{}, fmt.Errorf("book %s: async append: %w: length is %d, expected %d (another goroutine appended)",
			b.name, ErrLengthChanged, n, p.start)
	}
	return b.commitLocked(o, pr)
}

// asyncTailNow returns the latest async append still pending, or nil.
func (b *Book) asyncTailNow() *PendingAppend {
	b.asyncMu.Lock()
	defer b.asyncMu.Unlock()
	return b.asyncTail
}
