package db

import (
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Replicated pages are committed without waiting for the disk, and synced
// in groups: the first unsynced proof arms a timer, and when it fires one
// sync of Pebble's log makes every proof stored before it durable. A
// receiver pays one fsync per ReplicatedSyncDelay, not one per message,
// and no fsync stands between a push and its subscribers. The author
// keeps its pages, so a receiver that crashes in the window loses only a
// suffix of what it replicated (the log is ordered) and fetches it again;
// any synced write after them (an append of its own, a read marker) makes
// them durable at once.
type replSync struct {
	pdb   *pebble.DB
	delay time.Duration
	log   pebble.Logger

	mu      sync.Mutex // guards pending, closed, timer
	pending bool       // an unsynced proof waits for the timer
	closed  bool
	timer   *time.Timer

	syncMu sync.Mutex // one sync at a time; close waits for the last
	syncs  uint64     // syncs made (guarded by syncMu)
}

// newReplSync returns nil when every proof is synced as it is stored
// (a negative delay) or nothing is (NoSync).
func newReplSync(pdb *pebble.DB, o *Options) *replSync {
	if o.NoSync || o.ReadOnly || o.ReplicatedSyncDelay < 0 {
		return nil
	}
	return &replSync{pdb: pdb, delay: o.ReplicatedSyncDelay, log: o.Logger}
}

// stored notes an unsynced proof: it is synced within the delay.
func (r *replSync) stored() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending || r.closed {
		return
	}
	r.pending = true
	if r.timer == nil {
		r.timer = time.AfterFunc(r.delay, r.sync)
	} else {
		r.timer.Reset(r.delay)
	}
}

// sync makes every write before it durable: an empty synced log record
// syncs Pebble's write-ahead log up to it.
func (r *replSync) sync() {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	r.mu.Lock()
	run := r.pending && !r.closed
	r.pending = false // proofs stored from here on arm the timer again
	r.mu.Unlock()
	if !run {
		return
	}
	r.syncs++
	if err := r.pdb.LogData(nil, pebble.Sync); err != nil {
		r.log.Errorf("folio db: sync replicated pages: %v", err)
	}
}

// close syncs what is pending and stops the timer; the DB calls it before
// closing Pebble.
func (r *replSync) close() {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	r.mu.Lock()
	run := r.pending
	r.pending, r.closed = false, true
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
	if run {
		if err := r.pdb.LogData(nil, pebble.Sync); err != nil {
			r.log.Errorf("folio db: sync replicated pages: %v", err)
		}
	}
}
