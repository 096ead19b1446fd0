package book

import (
	"github.com/cockroachdb/pebble/v2"
)

// Limits that no option can raise.
const (
	maxPageSizeLimit = 1 << 30 // a single page never exceeds 1 GiB
	maxRoots         = 64
)

// Options configures a book. A nil *Options, and every zero field, means the
// documented default.
type Options struct {
	// MaxPageSize is the largest page accepted, in bytes. Default 4 MiB.
	MaxPageSize int
	// MaxBatchPages is the most pages one Append takes. Default 65,536.
	MaxBatchPages int
	// MaxBatchBytes is the most page bytes one Append takes. Default 64 MiB.
	MaxBatchBytes int
	// NoSync makes appends return before their batch reaches stable
	// storage (a crash may lose them; it never tears them). Default false:
	// every append is synced. AppendOptions.Sync overrides it per call.
	NoSync bool
	// EventListener receives the book's events. Default: none.
	EventListener *EventListener
	// Name is a label used in events and errors only. Default: the key in hex.
	Name string
	// Pacer, when set, may hold each append back before it takes the
	// book's lock (see Pacer). Default: none.
	Pacer Pacer
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxPageSize <= 0 {
		r.MaxPageSize = 4 << 20
	}
	if r.MaxPageSize > maxPageSizeLimit {
		r.MaxPageSize = maxPageSizeLimit
	}
	if r.MaxBatchPages <= 0 {
		r.MaxBatchPages = 1 << 16
	}
	if r.MaxBatchBytes <= 0 {
		r.MaxBatchBytes = 64 << 20
	}
	if r.EventListener == nil {
		r.EventListener = &EventListener{}
	}
	return r
}

// SyncMode chooses the durability of one append.
type SyncMode uint8

const (
	// SyncDefault follows Options.NoSync.
	SyncDefault SyncMode = iota
	// SyncOn waits until the batch is on stable storage.
	SyncOn
	// SyncOff returns once the batch is in Pebble's memtable and WAL buffer.
	SyncOff
)

func (o *Options) writeOptions(m SyncMode) *pebble.WriteOptions {
	switch {
	case m == SyncOn:
		return pebble.Sync
	case m == SyncOff:
		return pebble.NoSync
	case o.NoSync:
		return pebble.NoSync
	}
	return pebble.Sync
}

// AppendOptions adjusts one Append. The zero value appends unconditionally
// with the book's default durability.
type AppendOptions struct {
	// Sync overrides the book's durability for this append.
	Sync SyncMode
	// CheckLength makes the append fail with ErrLengthChanged unless the
	// book's length is ExpectedLength, so two writers cannot race.
	CheckLength    bool
	ExpectedLength uint64
}

// GetOptions adjusts one Get. The zero value waits for a missing page.
type GetOptions struct {
	// LocalOnly returns ErrNotFound at once when the page is not stored here
	// instead of waiting for it to be appended or replicated.
	LocalOnly bool
}
