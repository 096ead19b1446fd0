package peerstore

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	ma "github.com/multiformats/go-multiaddr"
)

// addrBook is the address book projection: go-libp2p v0.51.0's pstoremem
// algorithm (TTLs decided on read, AddAddrs never shortens, SetAddrs
// overwrites, caps with nearest-expiry eviction), reporting each change to
// the tracker and collecting events. It never touches the journal itself.
type addrBook struct {
	mu      sync.RWMutex
	addrs   peerAddrs
	records map[peer.ID]*peerRecordState
	gen     uint64    // the journal generation: it grows at every flush
	dirty   []peer.ID // peers changed in this generation (maybe twice)
	subs    *pstoremem.AddrSubManager
	clock   Clock
	t       *tracker

	// dormant holds the expired addresses of peers left with none, and
	// seen when each peer last held a connection: the journal keeps both
	// (dormant.go).
	dormant map[peer.ID][]*expiringAddr
	seen    map[peer.ID]time.Time

	maxUnconnected int
	maxRecords     int
	maxPerPeer     int
	exactReopen    bool
}

func newAddrBook(o *Options, t *tracker) *addrBook {
	return &addrBook{
		addrs:          newPeerAddrs(),
		records:        make(map[peer.ID]*peerRecordState),
		gen:            1,
		subs:           pstoremem.NewAddrSubManager(),
		dormant:        make(map[peer.ID][]*expiringAddr),
		seen:           make(map[peer.ID]time.Time),
		clock:          o.Clock,
		t:              t,
		maxUnconnected: o.MaxUnconnectedAddrs,
		maxRecords:     o.MaxSignedPeerRecords,
		maxPerPeer:     o.MaxAddrsPerPeer,
		exactReopen:    o.ExactReopen,
	}
}

// addrOp is what one call changed, for the tracker and the events.
type addrOp struct {
	p     peer.ID
	now   time.Time
	had   bool           // p had entries before the call
	state bool           // something journaled changed
	valid bool           // the valid set may have changed; prev is set
	prev  []ma.Multiaddr // valid addresses before the first such change
}

func (ab *addrBook) begin(p peer.ID) addrOp {
	return addrOp{p: p, now: ab.clock.Now(), had: len(ab.addrs.get(p)) > 0}
}

// touchValid captures the valid addresses before the first change that
// may alter them.
func (ab *addrBook) touchValid(op *addrOp) {
	if !op.valid && ab.t.wants(evAddrs) {
		op.valid = true
		op.prev = validAddrs(op.now, ab.addrs.get(op.p))
	}
}

func (ab *addrBook) insert(op *addrOp, a *expiringAddr) {
	ab.touchValid(op)
	ab.addrs.Insert(a)
	op.state = true
}

func (ab *addrBook) remove(op *addrOp, a *expiringAddr) {
	if !a.ExpiredBy(op.now) {
		ab.touchValid(op)
	}
	ab.addrs.Delete(a)
	op.state = true
}

// reset gives an entry a new TTL and expiry.
func (ab *addrBook) reset(op *addrOp, a *expiringAddr, ttl time.Duration, exp time.Time) {
	if a.ExpiredBy(op.now) != !op.now.Before(exp) { // revived, or now expired
		ab.touchValid(op)
	}
	a.TTL, a.Expiry = ttl, exp
	ab.addrs.Fix(a)
	op.state = true
}

// finish ends a call under the lock: the signed record goes when no
// address is left, the tracker hears of the change, events are collected.
func (ab *addrBook) finish(op *addrOp, evs *[]any) {
	if len(ab.addrs.get(op.p)) == 0 {
		if _, ok := ab.records[op.p]; ok {
			delete(ab.records, op.p)
			op.state = true
		}
	}
	if !op.state {
		return
	}
	if len(ab.dormant) > 0 {
		delete(ab.dormant, op.p) // a live change replaces the dormant addresses
	}
	ab.markDirty(op.p)
	if has := len(ab.addrs.get(op.p)) > 0; has != op.had {
		if ab.t.setPresent(op.p, bookAddrs, has) && ab.t.wants(evAdded) {
			*evs = append(*evs, EvtPeerAdded{Peer: op.p})
		}
	}
	if op.valid {
		cur := validAddrs(op.now, ab.addrs.get(op.p))
		if !sameAddrs(op.prev, cur) {
			*evs = append(*evs, EvtAddrsChanged{Peer: op.p, Previous: op.prev, Current: cur})
		}
	}
}

// markDirty records that p's addresses or record changed. Call with the
// lock held. A peer left without addresses may be listed twice.
func (ab *addrBook) markDirty(p peer.ID) {
	if set, ok := ab.addrs.peers[p]; ok {
		if set.gen == ab.gen {
			return
		}
		set.gen = ab.gen
		ab.addrs.peers[p] = set
	}
	ab.dirty = append(ab.dirty, p)
	ab.t.added()
}

// swapDirty takes the list of changed peers, leaving fresh (emptied) in
// its place, and starts a new generation.
func (ab *addrBook) swapDirty(fresh []peer.ID) []peer.ID {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	d := ab.dirty
	ab.dirty = fresh[:0]
	ab.gen++
	return d
}

// AddAddrs adds addresses with ttl; it never shortens a stored TTL or
// expiry.
func (ab *addrBook) AddAddrs(p peer.ID, addrs []ma.Multiaddr, ttl time.Duration) (evs []any) {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	op := ab.begin(p)
	ab.add(&op, addrs, ttl)
	ab.finish(&op, &evs)
	return evs
}

func (ab *addrBook) add(op *addrOp, addrs []ma.Multiaddr, ttl time.Duration) {
	if ttl <= 0 || !ttlIsConnected(ttl) && ab.addrs.NumUnconnected() >= ab.maxUnconnected {
		return
	}
	if ttlIsConnected(ttl) {
		ab.connected(op.p, op.now)
	}
	exp := op.now.Add(ttl)
	for _, addr := range addrs {
		addr, ok := splitAddr(op.p, addr)
		if !ok {
			continue
		}
		a, found := ab.addrs.Find(op.p, addr)
		if !found {
			if !ab.makeRoom(op, ttl) {
				continue
			}
			ab.insert(op, &expiringAddr{Addr: addr, Expiry: exp, TTL: ttl, Peer: op.p})
			ab.subs.BroadcastAddr(op.p, addr)
			continue
		}
		if ttl > a.TTL || exp.After(a.Expiry) {
			ab.reset(op, a, max(ttl, a.TTL), later(exp, a.Expiry))
		}
	}
}

// splitAddr removes a /p2p suffix; it refuses nil addresses and those of
// another peer.
func splitAddr(p peer.ID, addr ma.Multiaddr) (ma.Multiaddr, bool) {
	if addr == nil {
		return nil, false
	}
	addr, pid := peer.SplitAddr(addr)
	return addr, addr != nil && (pid == "" || pid == p)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// makeRoom applies the per-peer cap before a new address with ttl is
// stored: it evicts the unconnected address that expires first, and
// reports false when every address is held by a connection.
func (ab *addrBook) makeRoom(op *addrOp, ttl time.Duration) bool {
	if ab.maxPerPeer == unlimited || ttlIsConnected(ttl) {
		return true
	}
	var victim *expiringAddr
	n := 0
	for _, a := range ab.addrs.get(op.p) {
		if a.IsConnected() {
			continue
		}
		n++
		if victim == nil || a.Expiry.Before(victim.Expiry) {
			victim = a
		}
	}
	if n < ab.maxPerPeer {
		return true
	}
	if victim == nil {
		return false
	}
	ab.remove(op, victim)
	return true
}

// SetAddrs stores addresses with ttl whatever they had; ttl <= 0 deletes.
func (ab *addrBook) SetAddrs(p peer.ID, addrs []ma.Multiaddr, ttl time.Duration) (evs []any) {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	op := ab.begin(p)
	ab.set(&op, addrs, ttl)
	ab.finish(&op, &evs)
	return evs
}

func (ab *addrBook) set(op *addrOp, addrs []ma.Multiaddr, ttl time.Duration) {
	exp := op.now.Add(ttl)
	if ttlIsConnected(ttl) {
		ab.connected(op.p, op.now)
	}
	full := func() bool { return !ttlIsConnected(ttl) && ab.addrs.NumUnconnected() >= ab.maxUnconnected }
	for _, addr := range addrs {
		addr, ok := splitAddr(op.p, addr)
		if !ok {
			continue
		}
		a, found := ab.addrs.Find(op.p, addr)
		switch {
		case found && ttl <= 0, found && a.IsConnected() && full():
			ab.remove(op, a)
		case found:
			a.Addr = addr
			ab.reset(op, a, ttl, exp)
			ab.subs.BroadcastAddr(op.p, addr)
		case ttl <= 0, full(), !ab.makeRoom(op, ttl):
		default:
			ab.insert(op, &expiringAddr{Addr: addr, Expiry: exp, TTL: ttl, Peer: op.p})
			ab.subs.BroadcastAddr(op.p, addr)
		}
	}
}

// UpdateAddrs gives the addresses stored with oldTTL the TTL newTTL (0
// deletes them).
func (ab *addrBook) UpdateAddrs(p peer.ID, oldTTL, newTTL time.Duration) (evs []any) {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	op := ab.begin(p)
	exp := op.now.Add(newTTL)
	for _, a := range ab.addrs.get(p) {
		if a.TTL == oldTTL && ttlIsConnected(oldTTL) {
			ab.connected(p, op.now) // the connection ends now
		}
		switch {
		case a.TTL != oldTTL:
		case newTTL == 0:
			ab.remove(&op, a)
		case ttlIsConnected(oldTTL) && !ttlIsConnected(newTTL) && ab.addrs.NumUnconnected() >= ab.maxUnconnected:
			ab.remove(&op, a)
		default:
			ab.reset(&op, a, newTTL, exp)
		}
	}
	ab.finish(&op, &evs)
	return evs
}

// ClearAddrs deletes every address of p and its signed record.
func (ab *addrBook) ClearAddrs(p peer.ID) (evs []any) {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	op := ab.begin(p)
	for _, a := range ab.addrs.get(p) {
		ab.remove(&op, a)
	}
	ab.finish(&op, &evs) // drops the record
	return evs
}

// Addrs returns p's valid addresses.
func (ab *addrBook) Addrs(p peer.ID) []ma.Multiaddr {
	ab.mu.RLock()
	defer ab.mu.RUnlock()
	set, ok := ab.addrs.peers[p]
	if !ok {
		return nil
	}
	return validAddrs(ab.clock.Now(), set.m)
}

// PeersWithAddrs returns the peers with stored addresses (expired ones
// count until they are collected, as in pstoremem).
func (ab *addrBook) PeersWithAddrs() peer.IDSlice {
	ab.mu.RLock()
	defer ab.mu.RUnlock()
	out := make(peer.IDSlice, 0, len(ab.addrs.peers))
	for p := range ab.addrs.peers {
		out = append(out, p)
	}
	return out
}

// AddrStream sends p's stored addresses, then every new one, until ctx ends.
func (ab *addrBook) AddrStream(ctx context.Context, p peer.ID) <-chan ma.Multiaddr {
	ab.mu.RLock()
	var initial []ma.Multiaddr
	if m := ab.addrs.get(p); m != nil {
		initial = make([]ma.Multiaddr, 0, len(m))
		for _, a := range m {
			initial = append(initial, a.Addr)
		}
	}
	ab.mu.RUnlock()
	return ab.subs.AddrStream(ctx, p, initial)
}

// gc drops the expired unconnected addresses, and signed records left
// without addresses, and returns an EvtAddrsChanged per peer that lost
// some. It evicts rather than deletes: nothing is journaled (the journal
// still holds them), and the addresses of a peer left with none become
// its dormant ones (dormant.go).
func (ab *addrBook) gc() (evs []any) {
	now := ab.clock.Now()
	ab.mu.Lock()
	defer ab.mu.Unlock()
	var gone map[peer.ID][]*expiringAddr
	for {
		a, ok := ab.addrs.PopIfExpired(now)
		if !ok {
			break
		}
		if gone == nil {
			gone = make(map[peer.ID][]*expiringAddr)
		}
		gone[a.Peer] = append(gone[a.Peer], a)
	}
	for p, as := range gone {
		left := ab.addrs.get(p)
		if len(left) == 0 {
			ab.evictAddrs(p, as)
		}
		if ab.t.wants(evAddrs) {
			cur := validAddrs(now, left)
			prev := append(addrsOf(as), cur...)
			evs = append(evs, EvtAddrsChanged{Peer: p, Previous: prev, Current: cur})
		}
	}
	return evs
}

// sameAddrs reports whether a and b hold the same addresses.
func sameAddrs(a, b []ma.Multiaddr) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) <= 16 {
		for _, x := range a {
			found := false
			for _, y := range b {
				if x.Equal(y) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	set := make(map[string]struct{}, len(a))
	for _, x := range a {
		set[string(x.Bytes())] = struct{}{}
	}
	for _, y := range b {
		if _, ok := set[string(y.Bytes())]; !ok {
			return false
		}
	}
	return true
}
