package peerstore

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/folio-p2p/folio/book"
)

// pages is a read view of the journal: a *book.Snapshot, so that a
// checkpoint clearing pages meanwhile does not disturb a fold.
type pages interface {
	Length() uint64
	Has(i uint64) (bool, error)
	Pages(start, end uint64, fn func(i uint64, page []byte) error) error
}

// firstStored returns the first page the journal still stores. Only a
// prefix is ever cleared (the pages before a checkpoint), so a binary
// search over Has finds it in a few reads.
func firstStored(b pages) (uint64, error) {
	lo, hi := uint64(0), b.Length() // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		ok, err := b.Has(mid)
		if err != nil {
			return 0, fmt.Errorf("peerstore: journal page %d: %w", mid, err)
		}
		if ok {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// folder folds journal pages into a projection, in order.
type folder struct {
	pr    *projection
	st    journalStats
	pages uint64 // pages folded
	last  int64  // the latest page time: when the peerstore last wrote
}

func newFolder(pr *projection) *folder { return &folder{pr: pr} }

// foldJournal folds the pages b stores, from the first one, and returns
// where it started. The first page, unless it is page 0, must be a
// checkpoint: folding starts there from empty books.
func (f *folder) foldJournal(ctx context.Context, b *book.Book) (first uint64, err error) {
	snap, err := b.Snapshot()
	if err != nil {
		return 0, fmt.Errorf("peerstore: journal: %w", err)
	}
	defer snap.Close()
	if first, err = firstStored(snap); err != nil {
		return 0, err
	}
	return first, f.fold(ctx, snap, first, b.Name())
}

// The fold is a pipeline: one goroutine reads pages in order, decoders
// (one per core, at most foldDecoders) decode batches of them, and the
// calling goroutine applies the batches in order.
const (
	foldBatchSize  = 64       // pages
	foldBatchBytes = 64 << 10 // or bytes (a checkpoint chunk is a batch alone)
	foldDecoders   = 4
)

// foldItem is one page, read then decoded.
type foldItem struct {
	i          uint64
	data       []byte
	time       int64
	checkpoint bool   // a checkpoint page, of ckptPeers peers
	ckptPeers  uint64 //
	chunk      bool   // a chunk page (else a peer page)
	peers      []*peerState
	err        error
}

// foldBatch is a run of pages; done closes once they are decoded.
type foldBatch struct {
	items []foldItem
	done  chan struct{}
}

// fold folds pages [from, Length) of b.
func (f *folder) fold(ctx context.Context, b pages, from uint64, name string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.pr.reserve(int(min(b.Length()-from, 1<<20)))
	jobs, order := make(chan *foldBatch, 16), make(chan *foldBatch, 16)
	go f.read(ctx, b, from, jobs, order)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), foldDecoders) {
		in := newInterner()
		wg.Go(func() {
			for bt := range jobs {
				for i := range bt.items {
					decodeOne(&bt.items[i], in, from)
				}
				close(bt.done)
			}
		})
	}
	defer wg.Wait()
	for bt := range order {
		<-bt.done
		for _, it := range bt.items {
			err := it.err
			if err == nil {
				f.apply(it, b.Length())
			}
			f.pages++
			if err != nil {
				cancel()
				for range order { // let the reader and decoders finish
				}
				return fmt.Errorf("peerstore: %w: journal page %d of book %s: %w", ErrCorrupt, it.i, name, err)
			}
		}
	}
	return ctx.Err()
}

// read reads pages [from, Length) of b in batches, handing each batch to
// the decoders (jobs) and, in order, to the folding goroutine (order).
func (f *folder) read(ctx context.Context, b pages, from uint64, jobs, order chan<- *foldBatch) {
	defer close(order)
	defer close(jobs)
	bt := &foldBatch{done: make(chan struct{})}
	send := func() error {
		select {
		case order <- bt:
		case <-ctx.Done():
			return ctx.Err()
		}
		jobs <- bt // decoders drain jobs until it closes
		bt = &foldBatch{items: make([]foldItem, 0, foldBatchSize), done: make(chan struct{})}
		return nil
	}
	next, length, size := from, b.Length(), 0
	err := b.Pages(from, length, func(i uint64, data []byte) error {
		it := foldItem{i: i, data: append([]byte(nil), data...)}
		size += len(data)
		if i != next {
			it.i, it.err = next, fmt.Errorf("missing (the next stored page is %d)", i)
		}
		next++
		bt.items = append(bt.items, it)
		if it.err != nil {
			return it.err // sent below
		}
		if len(bt.items) == foldBatchSize || size >= foldBatchBytes {
			size = 0
			return send()
		}
		return nil
	})
	n := len(bt.items)
	switch {
	case err != nil && (n == 0 || bt.items[n-1].err == nil):
		bt.items = append(bt.items, foldItem{i: next, err: err}) // reading failed, not a page
	case err == nil && next != length:
		bt.items = append(bt.items, foldItem{i: next, err: fmt.Errorf("missing (the journal has %d pages)", length)})
	}
	if len(bt.items) > 0 {
		_ = send()
	}
}

// decodeOne decodes a page read (from is the first page folded).
func decodeOne(it *foldItem, in *interner, from uint64) {
	if it.err != nil {
		return
	}
	pg, err := parsePage(it.data)
	if err != nil {
		it.err = err
		return
	}
	if it.i == from && from > 0 && !pg.checkpoint {
		it.err = fmt.Errorf("the first stored page is not a checkpoint")
		return
	}
	it.checkpoint, it.ckptPeers, it.chunk, it.time = pg.checkpoint, pg.ckptPeers, pg.chunk, pg.time
	it.peers = make([]*peerState, 0, len(pg.peers))
	for _, b := range pg.peers {
		r, err := parsePeer(b)
		if err == nil && pg.chunk && r.books != uint32(journaled) {
			err = fmt.Errorf("chunk peer %x restates books %#x, not all", r.id, r.books)
		}
		var st *peerState
		if err == nil {
			st, err = decodePeer(r, in)
		}
		if err != nil {
			it.err = err
			return
		}
		it.peers = append(it.peers, st)
	}
}

// apply folds one decoded page (length is the journal's).
func (f *folder) apply(it foldItem, length uint64) {
	size := int64(len(it.data))
	f.last = max(f.last, it.time)
	switch {
	case it.checkpoint:
		f.st.ckptIndex, f.st.ckptBytes = it.i, 0
		f.st.sincePages, f.st.sinceBytes = 0, 0
		f.pr.reserve(int(min(it.ckptPeers+length-it.i, 1<<24)))
		return
	case it.chunk:
		f.st.ckptBytes += size
	default:
		f.st.sincePages++
		f.st.sinceBytes += size
	}
	for _, st := range it.peers {
		f.pr.restate(st)
	}
}

// finish builds the expiry heap, evicting what expired while the
// peerstore was closed (collection is not journaled). With reopen (Open,
// not Audit), the way back to the peers connected when the peerstore
// stopped is kept first (reopen.go).
func (f *folder) finish(reopen bool) {
	if reopen && f.last > 0 && !f.pr.addrs.exactReopen {
		f.pr.addrs.reopen(time.Unix(0, f.last))
	}
	f.pr.addrs.buildHeap()
}
