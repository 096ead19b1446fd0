package peerstore

// Metrics is a plain snapshot of the peerstore's state and counters.
type Metrics struct {
	Peers          int // peers some book holds something for
	PeersWithAddrs int
	Addrs          int // stored addresses (expired ones until collected)

	PendingChanges int    // peers with changes not yet flushed
	JournalLength  uint64 // pages in the journal's current book
	LastCheckpoint uint64 // page of the last checkpoint in that book (0 after a new generation)
	Generation     uint64 // the journal book's generation: checkpoints written over its life (generation.go)

	Flushes              uint64 // Appends of change pages since open
	Pages                uint64 // pages appended since open (checkpoints too)
	Bytes                uint64 // their bytes
	Checkpoints          uint64 // checkpoints written since open
	PagesSinceCheckpoint int    // change pages after the last checkpoint
	CheckpointBytes      int64  // size of the last checkpoint's chunks
	Errors               uint64 // failed flushes and checkpoints
	Dropped              uint64 // records too large to journal (kept in memory)
}

// Metrics returns the current metrics.
func (ps *Peerstore) Metrics() Metrics {
	st := ps.j.stats()
	pending := int(ps.pr.t.pending.Load())
	m := Metrics{
		Peers:          ps.pr.t.count(),
		PendingChanges: pending,
		JournalLength:  ps.Journal().Length(),
		Generation:     ps.generation(),
		LastCheckpoint: st.ckptIndex,

		Flushes: st.flushes, Pages: st.pages, Bytes: st.bytes,
		Checkpoints: st.checkpoints, PagesSinceCheckpoint: st.sincePages,
		CheckpointBytes: st.ckptBytes, Errors: st.errors, Dropped: st.dropped,
	}
	ps.pr.addrs.mu.RLock()
	m.PeersWithAddrs = len(ps.pr.addrs.addrs.peers)
	for _, set := range ps.pr.addrs.addrs.peers {
		m.Addrs += len(set.m)
	}
	ps.pr.addrs.mu.RUnlock()
	return m
}
