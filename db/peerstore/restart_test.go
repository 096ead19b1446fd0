//go:build unix

package peerstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	mockclock "github.com/benbjohnson/clock"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/folio-p2p/folio/db"
)

// A standard go-libp2p host on folio's peerstore meets a second host
// (identify done), then closes the normal way: its peerstore manager
// calls RemovePeer for the disconnected peer, identify lowers the
// addresses to the recently-connected TTL. Reopened at once or after 20
// minutes offline (the peerstore's clock), the peerstore still knows the
// peer's key, protocols and metadata, and a new host on it reconnects
// with no address given.
func TestHostRestartKeepsTheWayBack(t *testing.T) {
	for _, downtime := range []time.Duration{0, 20 * time.Minute} {
		t.Run(fmt.Sprint("offline=", downtime), func(t *testing.T) { hostRestart(t, downtime) })
	}
}

func hostRestart(t *testing.T, downtime time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clk := mockclock.NewMock()
	clk.Set(time.Now())
	o := &Options{Clock: clk}
	// go-libp2p's peerstore manager calls RemovePeer for a peer whose
	// disconnection it heard before it stopped; during host.Close it
	// sometimes stops first (seen once in ~10 full runs). A run without
	// RemovePeer proves nothing here, so it is done again, at most 5 times.
	var d *db.DB
	var hb host.Host
	for attempt := 1; ; attempt++ {
		var removed bool
		d, hb, removed = closedAfterIdentify(ctx, t, o)
		if removed {
			break
		}
		hb.Close()
		d.Close()
		if attempt == 5 {
			t.Fatalf("in %d runs, host.Close never called RemovePeer for the disconnected peer: the test proves nothing", attempt)
		}
		t.Logf("run %d: host.Close did not call RemovePeer; again", attempt)
	}
	defer d.Close()
	defer hb.Close()

	clk.Add(downtime)
	reopened := clk.Now()
	ps2 := openPS(t, d, o)
	checkIdentified(t, ps2, hb, "reopened")
	for _, e := range mustPeer(t, ps2, hb.ID()).Addrs {
		if e.TTL >= pstore.ConnectedAddrTTL || e.Expires.Before(reopened.Add(pstore.RecentlyConnectedAddrTTL)) {
			t.Errorf("address %s: TTL %v, expires %v after the reopen; want at least the recently-connected TTL, not permanent",
				e.Addr, e.TTL, e.Expires.Sub(reopened))
		}
	}
	recent := ps2.RecentPeers(0)
	if len(recent) != 1 || recent[0].ID != hb.ID() || len(recent[0].Addrs) == 0 {
		t.Errorf("RecentPeers: %v, want B with its addresses", recent)
	}
	auditOK(t, ps2)

	// Still dialable just before the recently-connected TTL runs out.
	clk.Add(pstore.RecentlyConnectedAddrTTL - time.Minute)
	ha2 := newHost(t, libp2p.Peerstore(ps2))
	defer ha2.Close()
	if err := connectIdentified(ctx, ha2, peer.AddrInfo{ID: hb.ID()}); err != nil {
		t.Fatalf("reconnect with no address given: %v", err)
	}
}

func mustPeer(t *testing.T, ps *Peerstore, p peer.ID) PeerData {
	t.Helper()
	d, ok := ps.GetPeer(p, 0)
	if !ok {
		t.Fatalf("peer %s unknown", p)
	}
	return d
}

// Forget erases what RemovePeer keeps: after a reopen, nothing is left.
func TestForgetErasesTheDormantRecord(t *testing.T) {
	ctx := context.Background()
	clk := mockclock.NewMock()
	clk.Set(time.Unix(1_700_000_000, 0))
	o := &Options{Clock: clk}
	d := openDB(t, "")
	defer d.Close()
	ps := openPS(t, d, o)
	kept, gone := peer.ID("kept"), peer.ID("gone")
	for _, p := range []peer.ID{kept, gone} {
		ps.AddAddrs(p, addrsN(2), pstore.ConnectedAddrTTL)
		_ = ps.SetProtocols(p, "/a/1", "/b/1")
		_ = ps.Put(p, "AgentVersion", "x/1")
		ps.UpdateAddrs(p, pstore.ConnectedAddrTTL, pstore.RecentlyConnectedAddrTTL)
		ps.RemovePeer(p)
	}
	clk.Add(time.Hour) // the addresses expire; collection evicts them
	ps.pr.addrs.gc()
	ps.Forget(gone)
	if err := ps.Checkpoint(ctx); err != nil { // dormant records cross checkpoints
		t.Fatal(err)
	}
	auditOK(t, ps)
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	ps2 := openPS(t, d, o)
	if protos, _ := ps2.GetProtocols(kept); len(protos) != 2 {
		t.Errorf("kept: protocols %v after reopen", protos)
	}
	if v, _ := ps2.Get(kept, "AgentVersion"); v != "x/1" {
		t.Errorf("kept: AgentVersion %v after reopen", v)
	}
	if r := ps2.RecentPeers(0); len(r) != 1 || r[0].ID != kept || !r[0].Dormant || len(r[0].Addrs) != 2 {
		t.Errorf("RecentPeers: %+v, want kept with its 2 dormant addresses", r)
	}
	if _, ok := ps2.GetPeer(gone, 0); ok {
		t.Errorf("gone: still known after Forget")
	}
	for _, r := range ps2.RecentPeers(0) {
		if r.ID == gone {
			t.Errorf("gone: still in RecentPeers")
		}
	}
	auditOK(t, ps2)
}

// addrsN returns n distinct loopback TCP addresses.
func addrsN(n int) []ma.Multiaddr {
	out := make([]ma.Multiaddr, n)
	for i := range out {
		out[i] = ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", 4000+i))
	}
	return out
}

// Past Options.MaxDormantPeers, collection forgets the dormant peers last
// connected longest ago.
func TestDormantPeersBounded(t *testing.T) {
	clk := mockclock.NewMock()
	clk.Set(time.Unix(1_700_000_000, 0))
	ps, _ := newPS(t, &Options{Clock: clk, MaxDormantPeers: 2, GCInterval: time.Hour})
	ids := []peer.ID{"oldest", "older", "newest"}
	for _, p := range ids {
		ps.AddAddrs(p, addrsN(1), pstore.ConnectedAddrTTL)
		_ = ps.SetProtocols(p, "/a/1")
		ps.UpdateAddrs(p, pstore.ConnectedAddrTTL, pstore.RecentlyConnectedAddrTTL)
		ps.RemovePeer(p)
		clk.Add(time.Minute)
	}
	clk.Add(time.Hour)
	ps.pr.addrs.gc()
	ps.trimDormant()
	var got []peer.ID
	for _, r := range ps.RecentPeers(0) {
		got = append(got, r.ID)
	}
	if want := []peer.ID{"newest", "older"}; !slices.Equal(got, want) {
		t.Fatalf("remembered %v, want %v", got, want)
	}
	auditOK(t, ps)
}

// closedAfterIdentify opens a peerstore on a fresh DB under a host that
// connects to another host B and completes identify, then closes the
// host the normal way (which closes the peerstore). removed reports
// whether the host's Close made the peerstore forget B's live state.
func closedAfterIdentify(ctx context.Context, t *testing.T, o *Options) (d *db.DB, hb host.Host, removed bool) {
	t.Helper()
	d = openDB(t, "")
	ps, err := Open(ctx, d, o)
	if err != nil {
		t.Fatal(err)
	}
	hb = newHost(t)
	ha := newHost(t, libp2p.Peerstore(ps))
	if err := connectIdentified(ctx, ha, peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()}); err != nil {
		t.Fatal(err)
	}
	checkIdentified(t, ps, hb, "live")
	if err := ha.Close(); err != nil { // closes ps too
		t.Fatal(err)
	}
	protos, _ := ps.GetProtocols(hb.ID())
	return d, hb, len(protos) == 0
}
