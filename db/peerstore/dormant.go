package peerstore

import (
	"slices"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
)

// Evict versus forget. go-libp2p drops what a host no longer needs in
// memory: its peerstore manager calls RemovePeer a minute after a peer
// disconnects (and for every disconnected peer on Close), and addresses
// expire. The live books do exactly that, as pstoremem does. But what a
// restarted peer needs to find its peers again — their keys, last
// addresses, protocols, metadata and when they were last connected — is
// what was just dropped. So eviction is not deletion: the journal keeps
// the evicted state as the peer's dormant record, restated by every page
// and checkpoint of that peer until a live change replaces it, and the
// fold brings it back on reopen. Only DeletePeer (Forget) erases.
//
// In memory the dormant record is small: the evicted key, protocol set and
// metadata map (the very objects the books held, shared), and the expired
// addresses of a peer left with none (addrBook.dormant).

// dormantPeer is what RemovePeer evicted from the live books of a peer.
type dormantPeer struct {
	pubKey ic.PubKey
	protos map[protocol.ID]struct{}
	meta   map[string]any
}

// evict records what RemovePeer took from p's live books; a book it took
// nothing from keeps what an earlier eviction recorded.
func (t *tracker) evict(p peer.ID, d dormantPeer) {
	if d.pubKey == nil && len(d.protos) == 0 && len(d.meta) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.dormant[p]
	if old == nil {
		t.dormant[p] = &d
		return
	}
	if d.pubKey != nil {
		old.pubKey = d.pubKey
	}
	if len(d.protos) > 0 {
		old.protos = d.protos
	}
	if len(d.meta) > 0 {
		old.meta = d.meta
	}
}

// wakeLocked ends the dormancy of books b of p: a live change replaced
// them. Call with t.mu held.
func (t *tracker) wakeLocked(p peer.ID, b books) {
	d := t.dormant[p]
	if d == nil {
		return
	}
	if b&bookKey != 0 {
		d.pubKey = nil
	}
	if b&bookProtos != 0 {
		d.protos = nil
	}
	if b&bookMeta != 0 {
		d.meta = nil
	}
	if d.pubKey == nil && d.protos == nil && d.meta == nil {
		delete(t.dormant, p)
	}
}

// fillDormant gives the captured books left empty the dormant state the
// journal must keep restating.
func (t *tracker) fillDormant(group []peerSnap) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.dormant) == 0 {
		return
	}
	for i := range group {
		s := &group[i]
		d := t.dormant[s.id]
		if d == nil {
			continue
		}
		if s.books&bookKey != 0 && s.pubKey == nil {
			s.pubKey = d.pubKey
		}
		if s.books&bookProtos != 0 && len(s.protos) == 0 {
			s.protos = d.protos
		}
		if s.books&bookMeta != 0 && len(s.meta) == 0 {
			s.meta = d.meta
		}
	}
}

// remembered returns every peer the journal must restate in a
// checkpoint: the live ones and the dormant ones.
func (pr *projection) remembered() []peer.ID {
	ids := pr.t.known()
	set := make(map[peer.ID]struct{}, len(ids))
	for _, p := range ids {
		set[p] = struct{}{}
	}
	add := func(p peer.ID) {
		if _, ok := set[p]; !ok {
			set[p] = struct{}{}
			ids = append(ids, p)
		}
	}
	pr.t.mu.Lock()
	for p := range pr.t.dormant {
		add(p)
	}
	pr.t.mu.Unlock()
	pr.addrs.mu.RLock()
	for p := range pr.addrs.dormant {
		add(p)
	}
	pr.addrs.mu.RUnlock()
	return ids
}

// evictAddrs makes the expired addresses of p, left with no address, its
// dormant ones. Call with ab.mu held.
func (ab *addrBook) evictAddrs(p peer.ID, gone []*expiringAddr) {
	delete(ab.records, p)
	ab.t.setPresent(p, bookAddrs, false)
	ab.dormant[p] = gone
}

// forget erases p's dormant addresses and when it was last connected.
func (ab *addrBook) forget(p peer.ID) {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	_, d := ab.dormant[p]
	_, s := ab.seen[p]
	if d || s {
		delete(ab.dormant, p)
		delete(ab.seen, p)
		ab.markDirty(p)
	}
}

// connected records that p holds a connection at now.
func (ab *addrBook) connected(p peer.ID, now time.Time) {
	if ab.seen[p].Before(now) {
		ab.seen[p] = now
	}
}

// trimDormant forgets the dormant peers beyond Options.MaxDormantPeers,
// those last connected longest ago first, so that what the journal
// remembers stays bounded however many peers come and go.
func (ps *Peerstore) trimDormant() {
	if ps.o.MaxDormantPeers == unlimited {
		return
	}
	ids := ps.pr.dormantOnly()
	if len(ids) <= ps.o.MaxDormantPeers {
		return
	}
	ab := ps.pr.addrs
	ab.mu.RLock()
	slices.SortFunc(ids, func(a, b peer.ID) int { return ab.seen[a].Compare(ab.seen[b]) })
	ab.mu.RUnlock()
	for _, p := range ids[:len(ids)-ps.o.MaxDormantPeers] {
		ps.Forget(p)
	}
}

// dormantOnly returns the peers with a dormant record and nothing in the
// live books.
func (pr *projection) dormantOnly() []peer.ID {
	var ids []peer.ID
	pr.addrs.mu.RLock()
	pr.t.mu.Lock()
	for p := range pr.t.dormant {
		if pr.t.present[p] == 0 {
			ids = append(ids, p)
		}
	}
	for p := range pr.addrs.dormant {
		if _, both := pr.t.dormant[p]; !both && pr.t.present[p] == 0 {
			ids = append(ids, p)
		}
	}
	pr.t.mu.Unlock()
	pr.addrs.mu.RUnlock()
	return ids
}

// Forget erases everything about p: the live books, its latency, and
// what the journal remembers of it (see RemovePeer). It is
// DeletePeer(p, AllBooks).
func (ps *Peerstore) Forget(p peer.ID) { ps.DeletePeer(p, AllBooks) }

// RecentPeer is a peer this peerstore saw connected.
type RecentPeer struct {
	peer.AddrInfo           // valid addresses; the dormant ones when none is
	LastConnected time.Time // on Options.Clock
	Dormant       bool      // Addrs are expired ones: a hint to dial, no more
}

// RecentPeers returns up to n (n <= 0: all) of the peers that were ever
// seen connected and that the peerstore still has addresses for, the most
// recently connected first: the peers worth redialing after a restart.
func (ps *Peerstore) RecentPeers(n int) []RecentPeer {
	ab := ps.pr.addrs
	ab.mu.RLock()
	now := ab.clock.Now()
	out := make([]RecentPeer, 0, len(ab.seen))
	for p, at := range ab.seen {
		rp := RecentPeer{AddrInfo: peer.AddrInfo{ID: p}, LastConnected: at}
		if m := ab.addrs.get(p); len(m) > 0 {
			rp.Addrs = validAddrs(now, m)
			if hasConnected(m) {
				rp.LastConnected = now
			}
		}
		if len(rp.Addrs) == 0 {
			for _, a := range ab.dormant[p] {
				rp.Addrs = append(rp.Addrs, a.Addr)
			}
			rp.Dormant = len(rp.Addrs) > 0
		}
		if len(rp.Addrs) > 0 {
			out = append(out, rp)
		}
	}
	ab.mu.RUnlock()
	slices.SortFunc(out, func(a, b RecentPeer) int {
		if c := b.LastConnected.Compare(a.LastConnected); c != 0 {
			return c
		}
		return compareBytes([]byte(a.ID), []byte(b.ID))
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

func hasConnected(m map[string]*expiringAddr) bool {
	for _, a := range m {
		if a.IsConnected() {
			return true
		}
	}
	return false
}

func addrsOf(as []*expiringAddr) []ma.Multiaddr {
	out := make([]ma.Multiaddr, len(as))
	for i, a := range as {
		out[i] = a.Addr
	}
	return out
}
