//go:build unix

package peerstore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	mockclock "github.com/benbjohnson/clock"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
)

// With AttachHost, a subscriber on the host's own bus hears the
// peerstore's events: identify's protocols for the peer met.
func TestEventsOnTheHostBus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ps, _ := newPS(t, nil)
	hb := newHost(t)
	defer hb.Close()
	ha := newHost(t, libp2p.Peerstore(ps))
	defer ha.Close()
	if err := ps.AttachHost(hb); !errors.Is(err, ErrNotHostPeerstore) {
		t.Fatalf("AttachHost of another host's peerstore: %v", err)
	}
	if err := ps.AttachHost(ha); err != nil {
		t.Fatal(err)
	}
	if ps.EventBus() != ha.EventBus() {
		t.Fatal("EventBus is not the host's")
	}
	sub, err := ha.EventBus().Subscribe(new(EvtProtocolsChanged), eventbus.BufSize(64))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := connectIdentified(ctx, ha, peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case e := <-sub.Out():
			ev := e.(EvtProtocolsChanged)
			if ev.Peer == hb.ID() && slices.Contains(ev.Current, protocol.ID("/ipfs/id/1.0.0")) {
				return
			}
		case <-ctx.Done():
			t.Fatal("no EvtProtocolsChanged for B on the host's bus")
		}
	}
}

// Collection of expired addresses emits EvtAddrsChanged, listing them.
func TestExpiryEmitsAddrsChanged(t *testing.T) {
	clk := mockclock.NewMock()
	clk.Set(time.Unix(1_700_000_000, 0))
	ps, _ := newPS(t, &Options{Clock: clk, GCInterval: 5 * time.Millisecond})
	p := peer.ID("expiring")
	addrs := addrsN(2)
	ps.AddAddr(p, addrs[0], time.Minute)
	ps.AddAddr(p, addrs[1], time.Hour)
	sub := subscribeAll(t, ps)
	clk.Add(2 * time.Minute)
	ev := expect[EvtAddrsChanged](t, sub)
	if ev.Peer != p || len(ev.Previous) != 2 || len(ev.Current) != 1 || !ev.Current[0].Equal(addrs[1]) {
		t.Fatalf("expiry event %+v, want %s dropped from both addresses", ev, addrs[0])
	}
}
