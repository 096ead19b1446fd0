package peerstore

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
)

// Downtime does not expire the way back. Address TTLs run on the clock
// whether the process runs or not, so a peer that was connected when the
// peerstore stopped (its addresses held with ConnectedAddrTTL, or lowered
// by identify to RecentlyConnectedAddrTTL on disconnect) would come back
// after 20 minutes offline with no valid address, and the host could not
// reconnect without being told one. Conversely, after a crash, addresses
// held with the connected TTL would come back as if a connection still
// held them: permanent, outside the unconnected-address cap.
//
// So on reopen, for each peer connected or recently connected when the
// peerstore last wrote (the latest page's time, "stop": connected
// addresses, or last connected within RecentlyConnectedAddrTTL of stop):
//
//   - a connected-TTL address gets RecentlyConnectedAddrTTL from now (no
//     connection holds it: it joins the expiry heap and the caps);
//   - an address still valid at stop expires no sooner than
//     RecentlyConnectedAddrTTL from now.
//
// Each such peer is marked dirty, so the journal restates the new expiry.

// reopen applies the rule above to the folded books, before buildHeap
// (connected addresses join the fold's heap list here).
func (ab *addrBook) reopen(stop time.Time) {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	now := ab.clock.Now()
	floor := now.Add(pstore.RecentlyConnectedAddrTTL)
	recent := stop.Add(-pstore.RecentlyConnectedAddrTTL)
	var changed []peer.ID
	for p, set := range ab.addrs.peers {
		seen, ok := ab.seen[p]
		if !hasConnected(set.m) && (!ok || seen.Before(recent)) {
			continue
		}
		for _, a := range set.m {
			switch {
			case a.IsConnected():
				a.TTL, a.Expiry = pstore.RecentlyConnectedAddrTTL, floor
				a.heapIndex = len(ab.addrs.heap)
				ab.addrs.heap = append(ab.addrs.heap, a)
			case a.Expiry.After(stop) && a.Expiry.Before(floor):
				a.Expiry = floor
			}
		}
		changed = append(changed, p)
	}
	for _, p := range changed {
		ab.markDirty(p)
	}
}
