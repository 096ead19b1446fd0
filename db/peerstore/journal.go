package peerstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Bounds of one Append, well inside the DB's defaults (65,536 pages and
// 64 MiB per batch).
const (
	maxAppendPages = 16 << 10
	maxAppendBytes = 32 << 20
	maxRetryDelay  = 10 * time.Second
	// restFactor is how long the flusher rests after a flush, in flushes:
	// under sustained load the journal takes at most 1/(1+restFactor) of
	// a core.
	restFactor = 3
)

// journal appends the tracker's dirty peers to the journal book in
// batches, from one goroutine: one Append (one signature) per flush, and
// a checkpoint from time to time.
type journal struct {
	d    *db.DB
	cur  atomic.Pointer[book.Book] // the current generation (generation.go)
	gen  uint64                    // its number (the flusher's)
	pr   *projection
	gate *sync.RWMutex // multi-book calls hold it shared; snapshots hold it
	o    *Options

	// ckptMu keeps a checkpoint from deleting the generation an Audit
	// folds.
	ckptMu sync.Mutex

	flushReq chan struct{}
	ckptReq  chan chan error // Checkpoint asks the flusher to write one now
	closing  chan struct{}
	done     chan struct{}

	sc scratch // the flusher's buffers, reused from flush to flush

	mu      sync.Mutex
	rounds  uint64        // flush rounds started (each takes the dirty set)
	flushed uint64        // the last round whose pages are all in the journal
	round   chan struct{} // closed after each flush attempt
	err     error         // the last attempt's error
	dead    error         // a permanent error: nothing more is journaled
	st      journalStats
}

// journalStats are the journal's counters (see Metrics).
type journalStats struct {
	flushes, pages, bytes, checkpoints, errors, dropped uint64

	ckptIndex  uint64 // the last checkpoint's page
	ckptBytes  int64  // its chunk pages' size
	sincePages int    // change pages after it
	sinceBytes int64
}

func newJournal(d *db.DB, b *book.Book, gen uint64, pr *projection, gate *sync.RWMutex, o *Options, st journalStats) *journal {
	j := &journal{
		d: d, gen: gen, pr: pr, gate: gate, o: o, st: st,
		flushReq: make(chan struct{}, 1),
		ckptReq:  make(chan chan error),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
		round:    make(chan struct{}),
	}
	j.cur.Store(b)
	return j
}

// book returns the journal's current generation.
func (j *journal) book() *book.Book { return j.cur.Load() }

// run is the flusher goroutine. After a change it waits FlushDelay (or
// less, once FlushChanges peers wait), then flushes. Under sustained load
// it rests after each flush restFactor times as long as the flush took, so
// the journal never takes more than a quarter of a core (the dirty set,
// and so each flush, stays bounded by the number of peers).
func (j *journal) run() {
	defer close(j.done)
	fails := 0
	var rest time.Duration
	for {
		now := false
		select {
		case <-j.pr.t.armed:
		case <-j.flushReq:
			now = true
		case reply := <-j.ckptReq:
			err := j.flush()
			if err == nil {
				err = j.checkpoint(context.Background())
			}
			reply <- err
			continue
		case <-j.closing:
			j.flush()
			return
		}
		if !now && !j.wait(retryDelay(j.o.FlushDelay, fails), rest) {
			j.flush()
			return
		}
		start := time.Now()
		err := j.flush()
		rest = restFactor * time.Since(start)
		if err != nil {
			fails++
			if j.deadErr() == nil {
				signal(j.pr.t.armed) // the restored changes need another round
			}
			continue
		}
		fails = 0
		j.maybeCheckpoint()
	}
}

// wait lets changes gather: it rests first (rest), then waits up to d in
// all unless enough peers wait. A Flush ends it at once. It reports false
// when the journal is closing.
func (j *journal) wait(d, rest time.Duration) bool {
	timer := time.NewTimer(max(d, rest))
	defer timer.Stop()
	var full <-chan struct{}
	resting := time.NewTimer(rest)
	defer resting.Stop()
	for {
		select {
		case <-resting.C:
			full = j.pr.t.full
		case <-timer.C:
			return true
		case <-full:
			return true
		case <-j.flushReq:
			return true
		case <-j.closing:
			return false
		}
	}
}

func retryDelay(d time.Duration, fails int) time.Duration {
	for range fails {
		if d *= 2; d >= maxRetryDelay {
			return maxRetryDelay
		}
	}
	return d
}

// flush appends one page per dirty peer. On failure the dirty set is
// restored, so nothing is lost while the process lives.
func (j *journal) flush() error {
	if err := j.deadErr(); err != nil {
		j.finishRound(j.startRound(), 0, 0, err)
		return err
	}
	sc := &j.sc
	j.gate.Lock()
	round := j.startRound()
	dirty := j.pr.t.swap(j.pr.addrs)
	sc.ids, sc.bs = sc.ids[:0], sc.bs[:0]
	for p, b := range dirty {
		sc.ids, sc.bs = append(sc.ids, p), append(sc.bs, b)
	}
	pages, size := j.captureEncode(j.gate.Unlock)
	err := j.append(pages)
	if err != nil {
		j.pr.t.restore(dirty)
	}
	j.pr.t.recycle(dirty)
	sc.trim()
	j.finishRound(round, len(pages), size, err)
	return err
}

// scratch holds the flusher's buffers.
type scratch struct {
	ids   []peer.ID
	bs    []books
	parts []part
	pages [][]byte
}

// part is the buffers of one share of a flush (parallel.go).
type part struct {
	snaps []peerSnap
	addrs []addrCopy
	buf   []byte
	pages [][]byte
	size  int64
}

// pageEstimate is the size of a typical change page (an identified peer:
// 3 addresses, a key, 8 protocols, 2 metadata entries), to size the
// flusher's buffer.
const pageEstimate = 512

// keepScratch is the most peers whose buffers a flush keeps for the next:
// the buffers of a larger flush go back to the collector, so that a burst
// does not pin memory.
const keepScratch = 16 << 10

// trim drops references to what the books may no longer hold, and the
// buffers of a large flush.
func (sc *scratch) trim() {
	clear(sc.pages)
	big := cap(sc.ids) > keepScratch
	for i := range sc.parts {
		p := &sc.parts[i]
		clear(p.snaps)
		clear(p.addrs)
		clear(p.pages)
		big = big || cap(p.buf) > keepScratch*pageEstimate/4
	}
	if big {
		*sc = scratch{}
	}
}

// encode appends to p.pages one page per captured peer, dropping (and
// reporting) those too large for a page.
func (j *journal) encode(p *part, now int64) {
	e := newEncoder()
	p.buf, p.pages, p.size = p.buf[:0], p.pages[:0], 0
	if want := len(p.snaps) * pageEstimate; cap(p.buf) < want {
		p.buf = make([]byte, 0, want) // one allocation, not a doubling series of copies
	}
	for i := range p.snaps {
		start := len(p.buf)
		p.buf = e.appendPeerPage(p.buf, &p.snaps[i], now)
		data := p.buf[start:len(p.buf):len(p.buf)]
		if len(data) > j.o.MaxPageSize {
			p.buf = p.buf[:start]
			j.report(fmt.Errorf("peerstore: peer %s not journaled (kept in memory): %d bytes, page limit %d",
				p.snaps[i].id, len(data), j.o.MaxPageSize), true)
			continue
		}
		p.pages = append(p.pages, data)
		p.size += int64(len(data))
	}
}

// append appends pages to the current generation.
func (j *journal) append(pages [][]byte) error { return appendTo(j.book(), pages) }

// appendTo appends pages to b in as few Appends as the batch bounds allow.
func appendTo(b *book.Book, pages [][]byte) error {
	for len(pages) > 0 {
		n, bytes := 0, 0
		for n < len(pages) && n < maxAppendPages && (n == 0 || bytes+len(pages[n]) <= maxAppendBytes) {
			bytes += len(pages[n])
			n++
		}
		if _, err := b.Append(context.Background(), pages[:n]...); err != nil {
			return fmt.Errorf("peerstore: journal append: %w", err)
		}
		pages = pages[n:]
	}
	return nil
}

// startRound numbers a flush round; call it when the round takes the
// dirty set.
func (j *journal) startRound() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rounds++
	return j.rounds
}

// finishRound records a flush attempt and wakes those waiting in Flush.
func (j *journal) finishRound(round uint64, pages int, size int64, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.err = err
	if err != nil {
		j.st.errors++
		if errors.Is(err, book.ErrClosed) || errors.Is(err, book.ErrReadOnly) || errors.Is(err, book.ErrFrozen) {
			j.dead = err
		}
	} else {
		j.flushed = max(j.flushed, round)
		if pages > 0 {
			j.st.flushes++
		}
		j.st.pages += uint64(pages)
		j.st.bytes += uint64(size)
		j.st.sincePages += pages
		j.st.sinceBytes += size
	}
	close(j.round)
	j.round = make(chan struct{})
	if err != nil {
		go j.o.OnError(err)
	}
}

func (j *journal) report(err error, dropped bool) {
	j.mu.Lock()
	if dropped {
		j.st.dropped++
	}
	j.mu.Unlock()
	j.o.OnError(err)
}

func (j *journal) deadErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.dead
}

// Flush waits until every change made before the call is in the journal:
// until a flush round that started after the call has completed.
func (j *journal) Flush(ctx context.Context) error {
	j.mu.Lock()
	target := j.rounds + 1
	j.mu.Unlock()
	for {
		j.mu.Lock()
		done, dead, round := j.flushed >= target, j.dead, j.round
		j.mu.Unlock()
		switch {
		case done:
			return nil
		case dead != nil:
			return fmt.Errorf("peerstore: journal stopped: %w", dead)
		}
		select {
		case <-j.done:
			return ErrClosed
		default:
		}
		signal(j.flushReq)
		select {
		case <-round:
		case <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		j.mu.Lock()
		err, started := j.err, j.rounds >= target
		done = j.flushed >= target
		j.mu.Unlock()
		if err != nil && started && !done {
			return err
		}
	}
}

// Checkpoint makes the flusher write a checkpoint now.
func (j *journal) Checkpoint(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case j.ckptReq <- reply:
	case <-j.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err() // the checkpoint goes on; it is safe at any point
	}
}

// close flushes what is left and stops the flusher.
func (j *journal) close() error {
	select {
	case <-j.closing:
	default:
		close(j.closing)
	}
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

func (j *journal) stats() journalStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.st
}
