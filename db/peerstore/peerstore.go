package peerstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	hostpstore "github.com/libp2p/go-libp2p/p2p/host/peerstore"
)

// Peerstore is go-libp2p's peerstore.Peerstore and CertifiedAddrBook,
// served from memory and journaled to a book. It is safe for concurrent
// use. See the package doc.
type Peerstore struct {
	o       Options
	pr      *projection
	gate    sync.RWMutex // multi-book calls: shared; journal snapshots: exclusive
	j       *journal
	ev      *emitters
	latency pstore.Metrics // go-libp2p's EWMA, memory only

	opened    OpenInfo
	stopGC    chan struct{}
	gcDone    chan struct{}
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var (
	_ pstore.Peerstore         = (*Peerstore)(nil)
	_ pstore.CertifiedAddrBook = (*Peerstore)(nil)
)

// OpenInfo describes the fold done by Open.
type OpenInfo struct {
	FirstPage uint64        // the first stored journal page (the last checkpoint, or 0)
	Pages     uint64        // pages folded
	Peers     int           // peers known after the fold
	Duration  time.Duration // time Open took
}

// Open opens the peerstore journaled in d's book Options.Name (creating
// it on first use) and folds the journal into memory: from the last
// checkpoint, or from the first page when none was written. A page that
// cannot be decoded fails Open with ErrCorrupt and names the page.
func Open(ctx context.Context, d *db.DB, o *Options) (*Peerstore, error) {
	start := time.Now()
	opts := o.withDefaults()
	b, gen, err := openJournal(ctx, d, opts.Name)
	if err != nil {
		return nil, fmt.Errorf("peerstore: open journal %q: %w", opts.Name, err)
	}
	pr := newProjection(&opts)
	f := newFolder(pr)
	first, err := f.foldJournal(ctx, b)
	if err != nil {
		return nil, err
	}
	f.finish(true)
	if opts.EventBus == nil {
		opts.EventBus = newWatchedBus(eventbus.NewBus(), pr.t)
	} else {
		pr.t.want.Store(uint32(evAll)) // others may subscribe on it unseen
	}
	ev, err := newEmitters(opts.EventBus)
	if err != nil {
		return nil, fmt.Errorf("peerstore: event emitters: %w", err)
	}
	ps := &Peerstore{o: opts, pr: pr, ev: ev, latency: hostpstore.NewMetrics(),
		stopGC: make(chan struct{}), gcDone: make(chan struct{})}
	ps.j = newJournal(d, b, gen, pr, &ps.gate, &ps.o, f.st)
	go ps.j.run()
	go ps.collect()
	ps.opened = OpenInfo{FirstPage: first, Pages: f.pages, Peers: pr.t.count(), Duration: time.Since(start)}
	return ps, nil
}

// collect drops expired addresses every GCInterval.
func (ps *Peerstore) collect() {
	defer close(ps.gcDone)
	t := time.NewTicker(ps.o.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ps.ev.emit(ps.pr.addrs.gc())
			ps.trimDormant()
		case <-ps.stopGC:
			return
		}
	}
}

// Close appends what is left to the journal and stops the peerstore's
// goroutines. It does not close the DB, which the caller owns (close the
// peerstore, or the libp2p host that closes it, first). Later calls still
// work in memory but are not journaled.
func (ps *Peerstore) Close() error {
	ps.closeOnce.Do(func() {
		ps.closed.Store(true)
		close(ps.stopGC)
		<-ps.gcDone
		err := ps.j.close()
		ps.ev.close()
		if err != nil {
			ps.closeErr = fmt.Errorf("peerstore: close: %w", err)
		}
	})
	return ps.closeErr
}

// Flush waits until every change made before the call is appended to the
// journal (and, unless the DB was opened with NoSync, synced).
func (ps *Peerstore) Flush(ctx context.Context) error {
	if ps.closed.Load() {
		return ErrClosed
	}
	return ps.j.Flush(ctx)
}

// Checkpoint flushes, then writes a checkpoint now and clears the pages
// before it (unless Options.NoClear).
func (ps *Peerstore) Checkpoint(ctx context.Context) error {
	if ps.closed.Load() {
		return ErrClosed
	}
	return ps.j.Checkpoint(ctx)
}

// EventBus returns the bus the peerstore emits its events on.
func (ps *Peerstore) EventBus() event.Bus { return ps.ev.bus() }

// AttachHost emits the peerstore's events on h's event bus from now on,
// where a host's users look for events (h.EventBus()); call it once the
// host built with libp2p.Peerstore(ps) exists (a host makes its bus
// itself, so Options cannot name it). Every event is then built, as for
// a bus given in Options.
func (ps *Peerstore) AttachHost(h host.Host) error {
	if h.Peerstore() != pstore.Peerstore(ps) {
		return ErrNotHostPeerstore
	}
	ps.pr.t.want.Store(uint32(evAll))
	if err := ps.ev.move(h.EventBus()); err != nil {
		return fmt.Errorf("peerstore: host event bus: %w", err)
	}
	return nil
}

// Opened describes the fold Open did.
func (ps *Peerstore) Opened() OpenInfo { return ps.opened }

// Journal returns the journal's current book (read it; never append to
// it). A checkpoint replaces it with a new generation (generation.go).
func (ps *Peerstore) Journal() *book.Book { return ps.j.book() }

// Peers returns the peers with an address or a key.
func (ps *Peerstore) Peers() peer.IDSlice {
	set := make(map[peer.ID]struct{})
	for _, p := range ps.pr.keys.PeersWithKeys() {
		set[p] = struct{}{}
	}
	for _, p := range ps.pr.addrs.PeersWithAddrs() {
		set[p] = struct{}{}
	}
	out := make(peer.IDSlice, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	return out
}

// PeerInfo returns p's valid addresses.
func (ps *Peerstore) PeerInfo(p peer.ID) peer.AddrInfo {
	return peer.AddrInfo{ID: p, Addrs: ps.pr.addrs.Addrs(p)}
}

// RemovePeer deletes p's keys, protocols, metadata and latency from the
// live books, but not its addresses (as go-libp2p's peerstores do; the
// host's peerstore manager calls it a minute after a peer disconnects,
// and for every disconnected peer when the host closes). It evicts rather
// than forgets: the journal keeps the public key, protocols and metadata
// as p's dormant record, which comes back on reopen (dormant.go). Forget
// erases.
func (ps *Peerstore) RemovePeer(p peer.ID) {
	var d dormantPeer
	var evs, e []any
	ps.gate.RLock()
	d.pubKey = ps.pr.keys.remove(p)
	d.protos, evs = ps.pr.protos.remove(p)
	d.meta, e = ps.pr.meta.remove(p)
	evs = append(evs, e...)
	ps.pr.t.evict(p, d)
	ps.gate.RUnlock()
	ps.latency.RemovePeer(p)
	ps.ev.emit(evs)
}

// RecordLatency adds a latency sample to p's EWMA (memory only).
func (ps *Peerstore) RecordLatency(p peer.ID, d time.Duration) { ps.latency.RecordLatency(p, d) }

// LatencyEWMA returns p's latency average (memory only).
func (ps *Peerstore) LatencyEWMA(p peer.ID) time.Duration { return ps.latency.LatencyEWMA(p) }
