package peerstore

import (
	"time"

	"github.com/libp2p/go-libp2p/core/event"
)

// Clock tells the time. Address TTLs are decided on read against it.
// *github.com/benbjohnson/clock.Mock satisfies it.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Options configures a Peerstore. A nil *Options, and every zero field,
// means the documented default.
type Options struct {
	// Name is the journal book's name in the DB. Default "peerstore".
	Name string
	// Clock decides address expiry. Default: the wall clock.
	Clock Clock
	// EventBus receives the peerstore's events (events.go). Default: a new
	// bus, returned by Peerstore.EventBus; on it, events nobody subscribed
	// to are not even built (bus.go).
	EventBus event.Bus

	// FlushDelay is how long a change waits in memory before it is
	// appended to the journal (under sustained load, until the flusher has
	// rested as long as its last flush took). Default 50 ms.
	FlushDelay time.Duration
	// FlushChanges flushes as soon as this many peers have changes
	// waiting. Default 512.
	FlushChanges int
	// CheckpointEvery writes a checkpoint once this many change pages
	// follow the last one (and the journal is 1.5 times the size of a
	// checkpoint, so that a large projection is not rewritten for a little
	// churn). Default 2,000: the pages since the last checkpoint are what
	// Pebble's write-ahead log holds, and it keeps MemTableStopWritesThreshold+2
	// logs of that size (recycling), so a smaller period bounds the directory.
	CheckpointEvery int
	// MaxPageSize bounds a checkpoint chunk page, in bytes; it must not
	// exceed the DB's own page limit (4 MiB by default). Default 1 MiB.
	MaxPageSize int
	// NoClear keeps the pages before the last checkpoint instead of
	// clearing them, so that the whole journal can be folded again from
	// the first page (tests and audits). Default false.
	NoClear bool
	// ExactReopen folds the journal exactly as written: downtime counts
	// against the TTLs, and connected-TTL addresses come back as such
	// (reopen.go describes what happens otherwise). For tests comparing
	// with a peerstore that never restarts. Default false.
	ExactReopen bool
	// GCInterval is how often expired addresses are dropped from memory.
	// Default one minute (as go-libp2p's pstoremem).
	GCInterval time.Duration

	// MaxAddrsPerPeer caps the unconnected addresses kept per peer; adding
	// one more evicts the one that expires first. Negative: no cap.
	// Default 64 (as pstoremem).
	MaxAddrsPerPeer int
	// MaxUnconnectedAddrs caps the unconnected addresses of all peers.
	// Negative: no cap. Default 1,000,000 (as pstoremem).
	MaxUnconnectedAddrs int
	// MaxSignedPeerRecords caps the peers with a signed record. Negative:
	// no cap. Default 100,000 (as pstoremem).
	MaxSignedPeerRecords int
	// MaxProtocols caps the protocols kept per peer. Negative: no cap.
	// Default 128 (as pstoremem).
	MaxProtocols int
	// MaxDormantPeers caps the peers the journal remembers with nothing
	// left in the live books (dormant records: see RemovePeer); past it,
	// collection forgets those last connected longest ago. Negative: no
	// cap. Default 10,000.
	MaxDormantPeers int
	// MaxValueSize caps one metadata value's journaled size, in bytes.
	// Default 64 KiB.
	MaxValueSize int

	// OnError hears of journal errors that no caller can receive (a failed
	// background flush is retried; a record too large to journal is kept
	// in memory only). Default: none. Metrics counts them too.
	OnError func(error)
}

const unlimited = int(^uint(0) >> 1)

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Name == "" {
		r.Name = "peerstore"
	}
	if r.Clock == nil {
		r.Clock = realClock{}
	}
	setDur(&r.FlushDelay, 50*time.Millisecond)
	setDur(&r.GCInterval, time.Minute)
	setInt(&r.FlushChanges, 512)
	setInt(&r.CheckpointEvery, 2_000)
	setInt(&r.MaxPageSize, 1<<20)
	setInt(&r.MaxValueSize, 64<<10)
	setLimit(&r.MaxAddrsPerPeer, 64)
	setLimit(&r.MaxUnconnectedAddrs, 1_000_000)
	setLimit(&r.MaxSignedPeerRecords, 100_000)
	setLimit(&r.MaxProtocols, 128)
	setLimit(&r.MaxDormantPeers, 10_000)
	if r.OnError == nil {
		r.OnError = func(error) {}
	}
	return r
}

func setDur(v *time.Duration, def time.Duration) {
	if *v <= 0 {
		*v = def
	}
}

func setInt(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

// setLimit maps 0 to the default and a negative value to no limit.
func setLimit(v *int, def int) {
	switch {
	case *v == 0:
		*v = def
	case *v < 0:
		*v = unlimited
	}
}
