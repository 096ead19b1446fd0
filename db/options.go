package db

import (
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/folio-p2p/folio/book"
)

// Options configures a DB. A nil *Options, and every zero field, means the
// documented default.
type Options struct {
	// FS is the filesystem Pebble uses. Default: the operating system's.
	// Tests pass Pebble's crash-simulating vfs.NewCrashableMem or errorfs.
	FS vfs.FS
	// NoSync makes appends return before they reach stable storage (a crash
	// may lose the latest ones; it never tears one). Default false: every
	// append is synced. book.AppendOptions.Sync overrides it per call.
	NoSync bool
	// ReplicatedSyncDelay bounds how long pages stored by replication
	// (proofs from other peers) may wait for an fsync: they are committed
	// at once without one, and one sync of the log every
	// ReplicatedSyncDelay makes all of them durable (replsync.go). A
	// crash may lose the replicated pages of the last ReplicatedSyncDelay
	// (a suffix: never a tear, never a page without the ones before it);
	// the book reopens at an earlier verified head and fetches them again.
	// Any synced write (an append of this DB's own) makes them durable
	// too. The catalogue entry of a book first met with OpenKey waits
	// the same way (lost in a crash, the book is met again). Default
	// 100 ms; negative: sync every stored proof before it is
	// acknowledged, as appends are. NoSync syncs none.
	ReplicatedSyncDelay time.Duration
	// MaxPageSize is the largest page a book accepts. Default 4 MiB.
	MaxPageSize int
	// MaxBatchPages and MaxBatchBytes bound one append. Defaults 65,536
	// pages and 64 MiB.
	MaxBatchPages int
	MaxBatchBytes int
	// CacheSize is Pebble's block cache, in bytes (memory outside the Go
	// heap, taken as blocks are read). Default 256 MiB, enough to keep
	// 100,000 pages of 1 KiB in memory. Past it, most random gets miss:
	// each miss reads a 4 KiB block from the OS and evicts another. At
	// 1,000,000 pages (1.1 GB of records) random gets had a p50 2–3×
	// lower with 1.4–1.5 GiB than with the default (BENCHMARKS.md, issue
	// 15, part E). A Get loop over a book much larger than the cache is
	// far slower still (Pebble's CLOCK-Pro cache walks its ring on every
	// eviction once the blocks read several times in a row have turned
	// hot: over 1,000,000 pages 246 s against 23 s with the book in the
	// cache): read long runs with Snapshot.Pages, one iterator. The
	// default stays small because a vault is one DB and the messenger's
	// books are small; raise it for DBs read at random beyond it, at the
	// cost of that much memory once that much has been read.
	CacheSize int64
	// MemTableSize is Pebble's memtable size, in bytes. Default 64 MiB.
	MemTableSize uint64
	// MemTableStopWrites is how many memtables' worth of writes may wait
	// in memory for their flush before Pebble holds writes back (a write
	// stall; Pebble's MemTableStopWritesThreshold). Default 2, Pebble's.
	// Measured (BENCHMARKS.md, issue 15, third session), 3,000,000-page
	// append-batch runs, 9 pairs: 4 instead of 2 cut the stalls from ~44
	// to ~6 a run and the p99 from 164 to 90 ms (medians), but folio's
	// pages/s fell in all 6 pairs of a first set (mostly load 5–13;
	// median −31 %) and was even in 3 pairs at load 2.4–5, so the default
	// stays Pebble's until a quiet set settles the throughput.
	// Raising it costs memory only while writes outpace flushes (up to
	// MemTableStopWrites × MemTableSize of memtables), and with WAL
	// recycling Pebble keeps up to MemTableStopWrites+1 obsolete logs.
	MemTableStopWrites int
	// NoWALRecycling deletes Pebble's write-ahead logs once obsolete
	// instead of keeping up to MemTableStopWrites+1 (three at the default)
	// for reuse. Each log has 110 % of
	// MemTableSize preallocated on disk (74 MB at the default), so the kept
	// ones can be most of a small DB's directory; recycling saves creating
	// a file per memtable rotation. Default false (Pebble recycles).
	NoWALRecycling bool
	// NoWritePacing lets appends run at full speed while a full memtable
	// flushes, until Pebble stops every write for the rest of the flush
	// (a write stall). By default a bulk writer faster than the flushes
	// is held back a little on each append instead, from the flush's
	// start, at the rate the flushes have kept up (pacer.go): the same
	// total time, spread over the appends, so the p99 is no longer the
	// stall's length. A DB written slower than it flushes never waits.
	// Default false (paced).
	NoWritePacing bool
	// EventListener receives every book's events; each carries the book's
	// name. Events of replicated pages run inside a replication session's
	// step, holding its lock: callbacks must not call a Session's methods.
	// Default: none.
	EventListener *book.EventListener
	// Logger receives Pebble's log lines. Default: discarded, since folio
	// reports through errors and events.
	Logger pebble.Logger
	// ReadOnly opens the DB without writing anything (for inspectors).
	// Default false.
	ReadOnly bool
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.FS == nil {
		r.FS = vfs.Default
	}
	if r.ReplicatedSyncDelay == 0 {
		r.ReplicatedSyncDelay = defaultReplicatedSyncDelay
	}
	if r.CacheSize <= 0 {
		r.CacheSize = 256 << 20
	}
	if r.MemTableSize == 0 {
		r.MemTableSize = 64 << 20
	}
	if r.MemTableStopWrites <= 0 {
		r.MemTableStopWrites = 2
	}
	if r.EventListener == nil {
		r.EventListener = &book.EventListener{}
	}
	if r.Logger == nil {
		r.Logger = quietLogger{}
	}
	return r
}

func (o *Options) bookOptions(name string, listener *book.EventListener, p *pacer) *book.Options {
	bo := &book.Options{
		MaxPageSize:   o.MaxPageSize,
		MaxBatchPages: o.MaxBatchPages,
		MaxBatchBytes: o.MaxBatchBytes,
		NoSync:        o.NoSync,
		EventListener: listener,
		Name:          name,
	}
	if p != nil { // a nil *pacer in the interface would not be nil
		bo.Pacer = p
	}
	return bo
}

// defaultReplicatedSyncDelay: see Options.ReplicatedSyncDelay.
const defaultReplicatedSyncDelay = 100 * time.Millisecond

// quietLogger drops Pebble's informational logs; fatal errors still panic.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}
