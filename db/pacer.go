package db

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Pacing constants. While a full memtable flushes, the DB's appends may
// write pacingLead of the room at once and the rest at an even rate that
// reaches pacingFill of it when the flush is expected to end; past that the
// rate goes on (a flush slower than expected ends in Pebble's stall, as
// without pacing). No single wait is longer than pacingMaxWait.
const (
	pacingLead = 0.10
	pacingFill = 0.85
	// pacingOverhead: a memtable holds more than the batches put in it
	// (a skiplist node per record, a trailer per key): ~6 % for 1 KiB
	// pages and their nodes.
	pacingOverhead = 1.08
	// pacingMargin: flushes run up to ~25 % longer than the last ones
	// (compactions take the CPU); the pacer expects them this much slower.
	pacingMargin  = 1.2
	pacingMaxWait = time.Second
	// pacingMinFlush: flushes of memtables smaller than this fraction of
	// MemTableSize (a new DB's first memtables start at 256 KiB and
	// double) neither start pacing nor teach the flush rate: they are
	// over before a writer could fill the next one.
	pacingMinFlush = 0.5
)

// pacer spreads a DB's appends over the flush of a full memtable.
//
// Pebble lets writes run at full speed into the next memtable while the
// last one flushes; if the next fills first, it holds every write until
// the flush ends (a write stall, 100–300 ms for a 64 MiB memtable here).
// A bulk writer then sees a few appends wait that long and the rest none,
// and its p99 is the stall. The pacer makes each append wait a little
// instead: from the flush's start it lets the appends write the room that
// is left before a stall (MemTableStopWrites−1 memtables) at the rate the
// flushes have kept up, so the memtable fills as the flush ends. The total
// time is about the same (a writer faster than the flushes is bound by
// them either way); it is spread over every append. Nothing waits while no
// large flush runs: a DB written slower than it flushes never waits.
//
// The flush rate is learnt from the flushes themselves (FlushEnd's input
// bytes over its duration, a running mean); until one large flush has
// ended the pacer does nothing. Bytes are counted as the appends and
// stored proofs announce them (about their Pebble batch's size), not as
// Pebble stores them, so writes that do not pass through it (catalogue
// entries, read markers) take room it does not see: those are small, and
// a stall remains the bound.
type pacer struct {
	now  func() time.Time
	room float64 // bytes that may be written during a flush before Pebble stalls

	// active is read without mu first: every append and every stored
	// proof of the DB asks, and almost always nothing is paced.
	active atomic.Bool

	mu       sync.Mutex
	flushing int // flushes begun and not ended
	start    time.Time     // of the flush being paced
	expect   time.Duration // its expected length
	used     float64       // bytes let through since start
	rate     float64       // flush rate, bytes/s; 0 until a large flush ended

	waits  atomic.Uint64
	waited atomic.Int64 // nanoseconds
}

// PacingMetrics reports what write pacing has held back.
type PacingMetrics struct {
	Waits uint64        // appends that waited
	Time  time.Duration // their waits, in total
}

func newPacer(o *Options) *pacer {
	return &pacer{now: time.Now, room: float64(o.MemTableStopWrites-1) * float64(o.MemTableSize)}
}

// listener returns the Pebble events the pacer learns from. Pebble calls
// them with its own mutex held: they only update a few fields.
func (p *pacer) listener(memTableSize uint64) pebble.EventListener {
	minFlush := uint64(pacingMinFlush * float64(memTableSize))
	return pebble.EventListener{
		FlushBegin: func(i pebble.FlushInfo) {
			if !i.Ingest {
				p.flushBegan(i.InputBytes, i.InputBytes >= minFlush)
			}
		},
		FlushEnd: func(i pebble.FlushInfo) {
			if !i.Ingest {
				ok := i.Err == nil && i.InputBytes >= minFlush
				p.flushEnded(i.InputBytes, i.TotalDuration, ok)
			}
		},
	}
}

func (p *pacer) flushBegan(bytes uint64, large bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushing++
	if p.flushing == 1 && large && p.rate > 0 && p.room > 0 {
		p.active.Store(true)
		p.start = p.now()
		p.expect = time.Duration(pacingMargin * float64(bytes) / p.rate * float64(time.Second))
		p.used = 0
	}
}

func (p *pacer) flushEnded(bytes uint64, d time.Duration, learn bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.flushing > 0 {
		p.flushing--
	}
	if p.flushing == 0 {
		p.active.Store(false)
	}
	if learn && d > 0 {
		r := float64(bytes) / d.Seconds()
		if p.rate == 0 {
			p.rate = r
		} else {
			p.rate = (p.rate + r) / 2
		}
	}
}

// reserve counts n bytes against the flush being paced and returns how long
// their writer should wait first (zero while nothing is paced).
func (p *pacer) reserve(n int) time.Duration {
	if !p.active.Load() {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.active.Load() {
		return 0
	}
	p.used += pacingOverhead * float64(n)
	// allowed(t) = room × (lead + (fill−lead) × t/expect); the time at
	// which it covers everything let through so far:
	frac := (p.used/p.room - pacingLead) / (pacingFill - pacingLead)
	if frac <= 0 {
		return 0
	}
	at := p.start.Add(time.Duration(frac * float64(p.expect)))
	return min(at.Sub(p.now()), pacingMaxWait)
}

// Wait holds an append of n bytes back as long as pacing asks, or until ctx
// is done.
func (p *pacer) Wait(ctx context.Context, n int) error {
	d := p.reserve(n)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.waits.Add(1)
	p.waited.Add(int64(d))
	return nil
}

func (p *pacer) metrics() PacingMetrics {
	return PacingMetrics{Waits: p.waits.Load(), Time: time.Duration(p.waited.Load())}
}
