package peerstore

import (
	"container/heap"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"
)

// The address book's storage is go-libp2p's pstoremem layout (v0.51.0): a
// map per peer from address bytes to entry, and one heap of the
// unconnected entries ordered by expiry for collection. Keeping the same
// layout keeps reads exactly as fast as pstoremem's.

// expiringAddr is one stored address.
type expiringAddr struct {
	Addr      ma.Multiaddr
	TTL       time.Duration
	Expiry    time.Time
	Peer      peer.ID
	heapIndex int // -1 when not in the heap (connected addresses)
}

func (e *expiringAddr) ExpiredBy(t time.Time) bool { return !t.Before(e.Expiry) }

func (e *expiringAddr) IsConnected() bool { return ttlIsConnected(e.TTL) }

// ttlIsConnected reports whether a TTL is at least ConnectedAddrTTL: such
// addresses are held by a live connection and escape the caps.
func ttlIsConnected(ttl time.Duration) bool { return ttl >= pstore.ConnectedAddrTTL }

type peerAddrs struct {
	peers map[peer.ID]addrSet // peer → its entries
	heap  []*expiringAddr     // unconnected entries by expiry
}

// addrSet is one peer's entries, by address bytes. gen is the journal
// generation in which the peer was last marked dirty: the address book's
// dirty mark costs no lookup beyond the one every call does.
type addrSet struct {
	m   map[string]*expiringAddr
	gen uint64
}

// get returns p's entries (nil if none).
func (pa *peerAddrs) get(p peer.ID) map[string]*expiringAddr { return pa.peers[p].m }

var _ heap.Interface = (*peerAddrs)(nil)

func newPeerAddrs() peerAddrs {
	return peerAddrs{peers: make(map[peer.ID]addrSet)}
}

func (pa *peerAddrs) Len() int           { return len(pa.heap) }
func (pa *peerAddrs) Less(i, j int) bool { return pa.heap[i].Expiry.Before(pa.heap[j].Expiry) }
func (pa *peerAddrs) Swap(i, j int) {
	pa.heap[i], pa.heap[j] = pa.heap[j], pa.heap[i]
	pa.heap[i].heapIndex = i
	pa.heap[j].heapIndex = j
}

func (pa *peerAddrs) Push(x any) {
	a := x.(*expiringAddr)
	a.heapIndex = len(pa.heap)
	pa.heap = append(pa.heap, a)
}

func (pa *peerAddrs) Pop() any {
	a := pa.heap[len(pa.heap)-1]
	a.heapIndex = -1
	pa.heap[len(pa.heap)-1] = nil
	pa.heap = pa.heap[:len(pa.heap)-1]
	return a
}

// Delete removes an entry from the map and the heap.
func (pa *peerAddrs) Delete(a *expiringAddr) {
	m := pa.get(a.Peer)
	key := string(a.Addr.Bytes())
	if _, ok := m[key]; !ok {
		return
	}
	if a.heapIndex != -1 {
		heap.Remove(pa, a.heapIndex)
	}
	delete(m, key)
	if len(m) == 0 {
		delete(pa.peers, a.Peer)
	}
}

func (pa *peerAddrs) Find(p peer.ID, addr ma.Multiaddr) (*expiringAddr, bool) {
	a, ok := pa.get(p)[string(addr.Bytes())]
	return a, ok
}

// PopIfExpired removes and returns the entry that expires first if it has
// expired by now.
func (pa *peerAddrs) PopIfExpired(now time.Time) (*expiringAddr, bool) {
	if len(pa.heap) == 0 || now.Before(pa.heap[0].Expiry) {
		return nil, false
	}
	a := heap.Pop(pa).(*expiringAddr)
	m := pa.get(a.Peer)
	delete(m, string(a.Addr.Bytes()))
	if len(m) == 0 {
		delete(pa.peers, a.Peer)
	}
	return a, true
}

// Fix restores the heap after an entry's TTL or expiry changed. Unlike
// pstoremem, an entry moved from a connected TTL to a shorter one joins the
// heap, so that it is counted and collected (pstoremem keeps it forever).
func (pa *peerAddrs) Fix(a *expiringAddr) {
	switch {
	case a.heapIndex == -1 && !a.IsConnected():
		heap.Push(pa, a)
	case a.heapIndex == -1:
	case a.IsConnected():
		heap.Remove(pa, a.heapIndex)
	default:
		heap.Fix(pa, a.heapIndex)
	}
}

func (pa *peerAddrs) Insert(a *expiringAddr) {
	a.heapIndex = -1
	set, ok := pa.peers[a.Peer]
	if !ok {
		set = addrSet{m: make(map[string]*expiringAddr)}
		pa.peers[a.Peer] = set
	}
	set.m[string(a.Addr.Bytes())] = a
	if !a.IsConnected() {
		heap.Push(pa, a)
	}
}

func (pa *peerAddrs) NumUnconnected() int { return len(pa.heap) }

// validAddrs returns the addresses of m not expired by now.
func validAddrs(now time.Time, m map[string]*expiringAddr) []ma.Multiaddr {
	good := make([]ma.Multiaddr, 0, len(m))
	for _, a := range m {
		if !a.ExpiredBy(now) {
			good = append(good, a.Addr)
		}
	}
	return good
}
