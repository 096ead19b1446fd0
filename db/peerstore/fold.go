package peerstore

import (
	"container/heap"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// The fold's steps on the projection: restate a peer, size the books, and
// build the expiry heap at the end. The fold owns the projection while it
// runs (Open has not returned it yet; Audit folds into a fresh one), so
// these take no lock but the address book's at the end.

// restate makes the books named in st exactly st's state. It is the fold
// step: no events, no caps, no expiry heap (finish builds it once), and
// presence kept directly.
func (pr *projection) restate(st *peerState) {
	p := st.id
	present := pr.t.present[p] // the fold owns the projection: no lock
	set := func(b books, on bool) {
		if on {
			present |= b
		} else {
			present &^= b
		}
	}
	if st.books&bookAddrs != 0 {
		// The heap is a plain list while folding (buildHeap orders it):
		// replaced entries are marked out of it.
		ab := pr.addrs
		for _, a := range ab.addrs.get(p) {
			a.heapIndex = -1
		}
		if len(st.addrs) > 0 {
			m := make(map[string]*expiringAddr, len(st.addrs))
			for _, a := range st.addrs {
				m[string(a.Addr.Bytes())] = a
				if !a.IsConnected() {
					a.heapIndex = len(ab.addrs.heap)
					ab.addrs.heap = append(ab.addrs.heap, a)
				}
			}
			ab.addrs.peers[p] = addrSet{m: m}
		} else {
			delete(ab.addrs.peers, p)
		}
		if st.record != nil {
			ab.records[p] = st.record
		} else {
			delete(ab.records, p)
		}
		if st.lastConnected != 0 {
			ab.seen[p] = time.Unix(0, st.lastConnected)
		} else {
			delete(ab.seen, p)
		}
		set(bookAddrs, len(st.addrs) > 0)
	}
	if st.books&bookKey != 0 {
		if st.pubKey != nil {
			pr.keys.pks[p] = st.pubKey
		} else {
			delete(pr.keys.pks, p)
		}
		set(bookKey, st.pubKey != nil)
	}
	if st.books&bookProtos != 0 {
		s := pr.protos.segment(p)
		if len(st.protos) > 0 {
			s.protocols[p] = st.protos
		} else {
			delete(s.protocols, p)
		}
		set(bookProtos, len(st.protos) > 0)
	}
	if st.books&bookMeta != 0 {
		if len(st.meta) > 0 {
			pr.meta.ds[p] = st.meta
		} else {
			delete(pr.meta.ds, p)
		}
		set(bookMeta, len(st.meta) > 0)
	}
	if present != 0 {
		pr.t.present[p] = present
	} else {
		delete(pr.t.present, p)
	}
}

// reserve sizes empty books for n peers before a fold fills them.
func (pr *projection) reserve(n int) {
	if n <= 0 || len(pr.t.present) > 0 {
		return
	}
	pr.t.present = make(map[peer.ID]books, n)
	pr.addrs.addrs.peers = make(map[peer.ID]addrSet, n)
	pr.keys.pks = make(map[peer.ID]ic.PubKey, n)
	pr.meta.ds = make(map[peer.ID]map[string]any, n)
	for _, s := range pr.protos.segments {
		s.protocols = make(map[peer.ID]map[protocol.ID]struct{}, n/len(pr.protos.segments)+1)
	}
}

// buildHeap turns the list a fold left into the expiry heap, dropping
// the entries replaced since and evicting those expired (with a signed
// record left without addresses), as collection would: a peer left with
// no address keeps the expired ones as its dormant addresses.
func (ab *addrBook) buildHeap() {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	now := ab.clock.Now()
	h := ab.addrs.heap
	n := 0
	gone := make(map[peer.ID][]*expiringAddr)
	for i, a := range h {
		switch {
		case a.heapIndex != i: // replaced
		case a.ExpiredBy(now):
			a.heapIndex = -1
			m := ab.addrs.get(a.Peer)
			delete(m, string(a.Addr.Bytes()))
			gone[a.Peer] = append(gone[a.Peer], a)
			if len(m) == 0 {
				delete(ab.addrs.peers, a.Peer)
				ab.evictAddrs(a.Peer, gone[a.Peer])
			}
		default:
			a.heapIndex = n
			h[n] = a
			n++
		}
	}
	clear(h[n:])
	ab.addrs.heap = h[:n]
	heap.Init(&ab.addrs)
}
