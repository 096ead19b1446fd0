package peerstore

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
)

func newIdentity(t *testing.T) (peer.ID, ic.PrivKey) {
	t.Helper()
	sk, _, err := ic.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := peer.IDFromPrivateKey(sk)
	return p, sk
}

func entries(addrs ...string) []AddrEntry {
	var out []AddrEntry
	for _, a := range addrs {
		out = append(out, AddrEntry{Addr: ma.StringCast(a), TTL: time.Hour})
	}
	return out
}

func addrStrings(es []AddrEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Addr.String())
	}
	slices.Sort(out)
	return out
}

func TestSetMergeGetDeletePeer(t *testing.T) {
	ps, d := newPS(t, nil)
	p, sk := newIdentity(t)
	err := ps.SetPeer(PeerData{ID: p, Addrs: entries("/ip4/1.1.1.1/tcp/1", "/ip4/1.1.1.1/tcp/2"),
		PubKey: sk.GetPublic(), Protocols: []protocol.ID{"/b", "/a"},
		Metadata: map[string]any{"AgentVersion": "x/1", "n": 3}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := ps.GetPeer(p, 0)
	if !ok || len(got.Addrs) != 2 || !slices.Equal(got.Protocols, []protocol.ID{"/a", "/b"}) ||
		!got.PubKey.Equals(sk.GetPublic()) || got.Metadata["n"] != 3 {
		t.Fatalf("GetPeer after SetPeer: %+v", got)
	}
	if got.Addrs[0].TTL != time.Hour || got.Addrs[0].Expires.IsZero() {
		t.Fatalf("entry %+v", got.Addrs[0])
	}

	// Merge: addresses and protocols add up, metadata entries are put.
	err = ps.MergePeer(PeerData{ID: p, Addrs: entries("/ip4/1.1.1.1/tcp/3"),
		Protocols: []protocol.ID{"/c"}, Metadata: map[string]any{"ProtocolVersion": "p/1"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = ps.GetPeer(p, 0)
	if len(got.Addrs) != 3 || len(got.Protocols) != 3 || len(got.Metadata) != 3 {
		t.Fatalf("after MergePeer: %+v", got)
	}

	// Set replaces: what is not listed goes.
	err = ps.SetPeer(PeerData{ID: p, Addrs: entries("/ip4/1.1.1.1/tcp/9"), Protocols: []protocol.ID{"/z"},
		Metadata: map[string]any{"AgentVersion": "x/2"}}, BookAddrs|BookProtocols|BookMetadata)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = ps.GetPeer(p, 0)
	if !slices.Equal(addrStrings(got.Addrs), []string{"/ip4/1.1.1.1/tcp/9"}) || !slices.Equal(got.Protocols, []protocol.ID{"/z"}) ||
		!reflect.DeepEqual(got.Metadata, map[string]any{"AgentVersion": "x/2"}) || got.PubKey == nil {
		t.Fatalf("after SetPeer: %+v", got)
	}

	// Only some books.
	got, _ = ps.GetPeer(p, BookProtocols)
	if got.Addrs != nil || got.Metadata != nil || got.PubKey != nil || len(got.Protocols) != 1 {
		t.Fatalf("GetPeer(BookProtocols): %+v", got)
	}

	// Refused before anything changes.
	other, osk := newIdentity(t)
	if err := ps.SetPeer(PeerData{ID: p, PubKey: osk.GetPublic(), Protocols: []protocol.ID{"/q"}}, 0); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("a wrong key: %v", err)
	}
	if err := ps.MergePeer(PeerData{ID: p, Metadata: map[string]any{"bad": struct{}{}}}, 0); !errors.Is(err, ErrUnsupportedValue) {
		t.Fatalf("an unsupported value: %v", err)
	}
	if got, _ := ps.GetPeer(p, BookProtocols); !slices.Equal(got.Protocols, []protocol.ID{"/z"}) {
		t.Fatalf("a refused call changed protocols: %v", got.Protocols)
	}

	// Signed records: a newer one wins, an older one is refused.
	rec := func(seq uint64, addrs ...string) *record.Envelope {
		r := peer.NewPeerRecord()
		r.PeerID, r.Seq = p, seq
		for _, a := range addrs {
			r.Addrs = append(r.Addrs, ma.StringCast(a))
		}
		env, err := record.Seal(r, sk)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	if err := ps.MergePeer(PeerData{ID: p, Record: rec(5, "/ip4/2.2.2.2/tcp/1")}, BookRecord); err != nil {
		t.Fatal(err)
	}
	if err := ps.MergePeer(PeerData{ID: p, Record: rec(4, "/ip4/2.2.2.2/tcp/2")}, BookRecord); !errors.Is(err, ErrStaleRecord) {
		t.Fatalf("an older record: %v", err)
	}
	if err := ps.SetPeer(PeerData{ID: p, Record: rec(6, "/ip4/2.2.2.2/tcp/3"), Addrs: entries("/ip4/1.1.1.1/tcp/9")}, BookAddrs|BookRecord); err != nil {
		t.Fatal(err)
	}
	got, _ = ps.GetPeer(p, BookAddrs|BookRecord)
	if !slices.Equal(addrStrings(got.Addrs), []string{"/ip4/1.1.1.1/tcp/9", "/ip4/2.2.2.2/tcp/3"}) || got.Record == nil {
		t.Fatalf("after SetPeer with a record: %v %v", addrStrings(got.Addrs), got.Record != nil)
	}

	ps.MergePeer(PeerData{ID: other, Addrs: entries("/ip4/3.3.3.3/tcp/1")}, 0)
	list := ps.ListPeers(BookAddrs)
	if len(list) != 2 || list[0].ID > list[1].ID {
		t.Fatalf("ListPeers: %+v", list)
	}

	// Delete some books, then all.
	ps.DeletePeer(p, BookMetadata|BookRecord)
	got, _ = ps.GetPeer(p, 0)
	if got.Metadata != nil || got.Record != nil || len(got.Addrs) != 2 {
		t.Fatalf("after DeletePeer(metadata, record): %+v", got)
	}
	auditOK(t, ps)
	ps.DeletePeer(p, 0)
	if _, ok := ps.GetPeer(p, 0); ok {
		t.Fatal("GetPeer finds a deleted peer")
	}
	if len(ps.ListPeers(0)) != 1 {
		t.Fatal("ListPeers after DeletePeer")
	}

	// All of it survives a restart.
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	ps2 := openPS(t, d, nil)
	if _, ok := ps2.GetPeer(p, 0); ok {
		t.Fatal("a deleted peer came back")
	}
	if got, ok := ps2.GetPeer(other, 0); !ok || len(got.Addrs) != 1 {
		t.Fatalf("after restart: %+v", got)
	}
	auditOK(t, ps2)
}

func TestSetPeerDefaults(t *testing.T) {
	ps, _ := newPS(t, nil)
	ps.SetPeer(PeerData{ID: "p", Addrs: []AddrEntry{{Addr: ma.StringCast("/ip4/1.1.1.1/tcp/1")}}}, 0)
	got, _ := ps.GetPeer("p", BookAddrs)
	if len(got.Addrs) != 1 || got.Addrs[0].TTL != pstore.AddressTTL {
		t.Fatalf("default TTL: %+v", got.Addrs)
	}
}
