package peerstore

import (
	"testing"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"
)

// subscribeAll subscribes to every event of the peerstore.
func subscribeAll(t *testing.T, ps *Peerstore) event.Subscription {
	t.Helper()
	sub, err := ps.EventBus().Subscribe([]any{new(EvtPeerAdded), new(EvtAddrsChanged),
		new(EvtProtocolsChanged), new(EvtPubKeyLearned), new(EvtMetadataChanged)}, eventbus.BufSize(64))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// next returns the next event, or nil if none comes soon.
func next(sub event.Subscription) any {
	select {
	case e := <-sub.Out():
		return e
	case <-time.After(50 * time.Millisecond):
		return nil
	}
}

func expect[T any](t *testing.T, sub event.Subscription) T {
	t.Helper()
	e := next(sub)
	v, ok := e.(T)
	if !ok {
		var want T
		t.Fatalf("event %#v, want a %T", e, want)
	}
	return v
}

func expectNone(t *testing.T, sub event.Subscription, after string) {
	t.Helper()
	if e := next(sub); e != nil {
		t.Fatalf("after %s: unexpected event %#v", after, e)
	}
}

func TestEvents(t *testing.T) {
	ps, _ := newPS(t, nil)
	sub := subscribeAll(t, ps)
	sk, _, _ := ic.GenerateEd25519Key(nil)
	p, _ := peer.IDFromPrivateKey(sk)
	a1, a2 := ma.StringCast("/ip4/1.2.3.4/tcp/1"), ma.StringCast("/ip4/1.2.3.4/tcp/2")

	ps.AddAddrs(p, []ma.Multiaddr{a1}, time.Hour)
	if e := expect[EvtPeerAdded](t, sub); e.Peer != p {
		t.Fatalf("EvtPeerAdded for %s", e.Peer)
	}
	if e := expect[EvtAddrsChanged](t, sub); len(e.Previous) != 0 || len(e.Current) != 1 || !e.Current[0].Equal(a1) {
		t.Fatalf("first EvtAddrsChanged %v → %v", e.Previous, e.Current)
	}
	ps.AddAddrs(p, []ma.Multiaddr{a1}, 2*time.Hour) // TTL extended only
	expectNone(t, sub, "extending a TTL")
	ps.SetAddrs(p, []ma.Multiaddr{a2}, time.Hour)
	if e := expect[EvtAddrsChanged](t, sub); len(e.Previous) != 1 || len(e.Current) != 2 {
		t.Fatalf("EvtAddrsChanged %v → %v", e.Previous, e.Current)
	}
	ps.SetAddr(p, a1, -1)
	if e := expect[EvtAddrsChanged](t, sub); len(e.Previous) != 2 || len(e.Current) != 1 || !e.Current[0].Equal(a2) {
		t.Fatalf("EvtAddrsChanged on delete %v → %v", e.Previous, e.Current)
	}

	if err := ps.SetProtocols(p, "/a", "/b"); err != nil {
		t.Fatal(err)
	}
	if e := expect[EvtProtocolsChanged](t, sub); len(e.Previous) != 0 || len(e.Current) != 2 {
		t.Fatalf("EvtProtocolsChanged %v → %v", e.Previous, e.Current)
	}
	ps.SetProtocols(p, "/b", "/a")
	ps.AddProtocols(p, "/a")
	ps.RemoveProtocols(p, "/c")
	expectNone(t, sub, "protocol calls that change nothing")

	if ps.PubKey(p) == nil { // extracted from the ID and stored: learned
		t.Fatal("no key")
	}
	if e := expect[EvtPubKeyLearned](t, sub); e.Previous != nil || !e.Current.Equals(sk.GetPublic()) {
		t.Fatalf("EvtPubKeyLearned %v", e)
	}
	ps.AddPubKey(p, sk.GetPublic())
	expectNone(t, sub, "the same key again")

	ps.Put(p, "AgentVersion", "a/1")
	if e := expect[EvtMetadataChanged](t, sub); e.Existed || e.Current != "a/1" || e.Key != "AgentVersion" {
		t.Fatalf("EvtMetadataChanged %#v", e)
	}
	ps.Put(p, "AgentVersion", "a/1")
	expectNone(t, sub, "the same metadata value again")
	ps.Put(p, "AgentVersion", "a/2")
	if e := expect[EvtMetadataChanged](t, sub); !e.Existed || e.Previous != "a/1" || e.Current != "a/2" {
		t.Fatalf("EvtMetadataChanged %#v", e)
	}

	ps.RemovePeer(p) // protocols and metadata go (and the key: no event)
	for range 2 {
		switch e := next(sub).(type) {
		case EvtProtocolsChanged:
			if len(e.Current) != 0 || len(e.Previous) != 2 {
				t.Fatalf("EvtProtocolsChanged on RemovePeer %v → %v", e.Previous, e.Current)
			}
		case EvtMetadataChanged:
			if !e.Removed || e.Previous != "a/2" {
				t.Fatalf("EvtMetadataChanged on RemovePeer %#v", e)
			}
		default:
			t.Fatalf("event %#v on RemovePeer", e)
		}
	}
	expectNone(t, sub, "RemovePeer")

	ps.ClearAddrs(p) // the last data: p is unknown again
	expect[EvtAddrsChanged](t, sub)
	ps.Put(p, "x", 1)
	expect[EvtPeerAdded](t, sub)
	expect[EvtMetadataChanged](t, sub)
}

func TestEventsNotOnFold(t *testing.T) {
	ps, d := newPS(t, nil)
	ps.AddAddr("p", ma.StringCast("/ip4/1.2.3.4/tcp/1"), time.Hour)
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	bus := eventbus.NewBus()
	sub, _ := bus.Subscribe(new(EvtPeerAdded), eventbus.BufSize(4))
	ps2 := openPS(t, d, &Options{EventBus: bus})
	if ps2.EventBus() != bus {
		t.Fatal("EventBus is not the bus given")
	}
	select {
	case e := <-sub.Out():
		t.Fatalf("event %#v from the fold", e)
	case <-time.After(20 * time.Millisecond):
	}
	if len(ps2.Addrs("p")) != 1 {
		t.Fatal("address lost")
	}
	ps2.AddAddr("q", ma.StringCast("/ip4/1.2.3.4/tcp/1"), pstore.TempAddrTTL)
	if e := (<-sub.Out()).(EvtPeerAdded); e.Peer != "q" {
		t.Fatal(e)
	}
}

// On the default bus, events are built only while someone subscribes.
func TestEventsBuiltOnlyForSubscribers(t *testing.T) {
	ps, _ := newPS(t, nil)
	if ps.pr.t.wants(evAll) {
		t.Fatal("events wanted with no subscriber")
	}
	sub, err := ps.EventBus().Subscribe(new(EvtProtocolsChanged))
	if err != nil {
		t.Fatal(err)
	}
	if !ps.pr.t.wants(evProtos) || ps.pr.t.wants(evAddrs|evAdded) {
		t.Fatalf("wanted %#x, want protocols only", ps.pr.t.want.Load())
	}
	ps.SetProtocols("p", "/a")
	if e := (<-sub.Out()).(EvtProtocolsChanged); e.Peer != "p" {
		t.Fatal(e)
	}
	sub.Close()
	sub.Close()
	if ps.pr.t.wants(evAll) {
		t.Fatal("events still wanted after Close")
	}
	all, err := ps.EventBus().Subscribe(event.WildcardSubscription, eventbus.BufSize(8))
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	ps.AddAddr("q", ma.StringCast("/ip4/1.2.3.4/tcp/1"), time.Hour)
	if _, ok := (<-all.Out()).(EvtPeerAdded); !ok {
		t.Fatal("the wildcard subscription missed EvtPeerAdded")
	}
	if _, ok := (<-all.Out()).(EvtAddrsChanged); !ok {
		t.Fatal("the wildcard subscription missed EvtAddrsChanged")
	}
}
