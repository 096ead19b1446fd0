package peerstore

import (
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/peer"
)

// books is a bit set of a peer's books.
type books uint8

const (
	bookAddrs   books = 1 << iota // addresses and the signed peer record
	bookKey                       // public key
	bookProtos                    // protocols
	bookMeta                      // metadata
	bookPrivKey                   // private key: presence only, never journaled

	journaled = bookAddrs | bookKey | bookProtos | bookMeta
)

// tracker is the link between the in-memory books and the journal. It
// collects which books of which peers changed since the last flush (the
// dirty set: bounded by the number of peers whatever the write rate), and
// which books hold something for each peer (presence, for the new-peer
// event and ListPeers). The address book, the hot one, keeps its own dirty
// set under its own lock (addrBook.dirty); the tracker counts it. Books
// call the tracker while holding their own lock; its lock is taken last.
type tracker struct {
	mu      sync.Mutex
	dirty   map[peer.ID]books // books other than the address book's
	present map[peer.ID]books
	dormant map[peer.ID]*dormantPeer // what RemovePeer evicted (dormant.go)

	// Emptied dirty sets for the next swap (only the flusher touches them).
	spare     map[peer.ID]books
	spareAddr []peer.ID

	want      atomic.Uint32 // evKind bits of the events someone may receive
	pending   atomic.Int64  // peers newly dirty since the last swap
	threshold int64
	armed     chan struct{} // a first change waits: start the delay
	full      chan struct{} // threshold peers wait: flush now
}

func newTracker(threshold int) *tracker {
	return &tracker{
		dirty:   make(map[peer.ID]books),
		present: make(map[peer.ID]books),
		dormant: make(map[peer.ID]*dormantPeer),
		spare:   make(map[peer.ID]books),

		threshold: int64(threshold),
		armed:     make(chan struct{}, 1),
		full:      make(chan struct{}, 1),
	}
}

// mark records that the books b of p changed. A change ends what the
// journal remembered of those books after an eviction: the live state
// (even empty) is what the journal restates from now on.
func (t *tracker) mark(p peer.ID, b books) {
	t.mu.Lock()
	old := t.dirty[p]
	t.dirty[p] = old | b
	if len(t.dormant) > 0 {
		t.wakeLocked(p, b)
	}
	t.mu.Unlock()
	if old == 0 {
		t.added()
	}
}

// added counts one more dirty peer and wakes the flusher as needed.
func (t *tracker) added() {
	switch t.pending.Add(1) {
	case 1:
		signal(t.armed)
	case t.threshold:
		signal(t.full)
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// setPresent records whether book b of p holds something. It reports
// whether p was unknown (no book held anything) and now is known.
func (t *tracker) setPresent(p peer.ID, b books, on bool) (added bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.present[p]
	switch {
	case on && old&b == 0:
		t.present[p] = old | b
		return old == 0
	case !on && old&b != 0:
		if old &^= b; old == 0 {
			delete(t.present, p)
		} else {
			t.present[p] = old
		}
	}
	return false
}

// swap takes the dirty set of every book, leaving empty ones (the sets
// of the swap before, emptied: no garbage). Give the set back with
// recycle once done with it. Only the flusher calls these.
func (t *tracker) swap(ab *addrBook) map[peer.ID]books {
	t.pending.Store(0) // first: a mark from here on is counted (and armed) anew
	addrs := ab.swapDirty(t.spareAddr)
	t.mu.Lock()
	d := t.dirty
	t.dirty = t.spare
	t.mu.Unlock()
	for _, p := range addrs {
		d[p] |= bookAddrs
	}
	clear(addrs)
	t.spareAddr, t.spare = addrs[:0], nil
	return d
}

// recycle empties a set swap returned, for the next swap (a large one
// goes back to the collector).
func (t *tracker) recycle(d map[peer.ID]books) {
	if len(d) > keepScratch {
		t.spare, t.spareAddr = make(map[peer.ID]books), nil
		return
	}
	clear(d)
	t.spare = d
}

// restore merges back a dirty set whose flush failed.
func (t *tracker) restore(d map[peer.ID]books) {
	t.mu.Lock()
	for p, b := range d {
		t.dirty[p] |= b // the address bit too: any bit makes the flush restate what it names
	}
	t.mu.Unlock()
	t.pending.Add(int64(len(d)))
}

// known returns every peer some book holds something for.
func (t *tracker) known() []peer.ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]peer.ID, 0, len(t.present))
	for p := range t.present {
		out = append(out, p)
	}
	return out
}

// count returns how many peers some book holds something for.
func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.present)
}
