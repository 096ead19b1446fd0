package peerstore

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// A real peerstore's journal, read back page by page the way the
// inspector reads it: the peer as it was stored.
func TestDecodeJournalPage(t *testing.T) {
	ps, d := newPS(t, nil)
	sk, _, _ := ic.GenerateEd25519Key(zeroReader{})
	p, _ := peer.IDFromPrivateKey(sk)
	ps.AddAddrs(p, []ma.Multiaddr{addr(1), addr(2)}, time.Hour)
	if err := ps.AddPubKey(p, sk.GetPublic()); err != nil {
		t.Fatal(err)
	}
	if err := ps.SetProtocols(p, "/b", "/a"); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"AgentVersion": "x/1", "n": 7, "d": time.Second, "raw": []byte{1, 2}} {
		if err := ps.Put(p, k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := d.Book(context.Background(), "peerstore")
	if err != nil {
		t.Fatal(err)
	}
	var last *JournalPeer
	for i := range b.Length() {
		data, err := b.Get(context.Background(), i, nil)
		if err != nil {
			t.Fatal(err)
		}
		pg, err := DecodeJournalPage(data)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if pg.Written == 0 || (pg.Kind != "peer" && pg.Kind != "checkpoint" && pg.Kind != "checkpoint chunk") {
			t.Fatalf("page %d: written %d, kind %q", i, pg.Written, pg.Kind)
		}
		for j := range pg.Peers {
			if peer.ID(pg.Peers[j].ID) == p {
				last = &pg.Peers[j]
			}
		}
	}
	if last == nil {
		t.Fatal("no page restates the peer")
	}
	if last.Books&JournalAddrs == 0 || len(last.Addrs) != 2 || !last.Addrs[0].HasTTL || last.Addrs[0].TTL != time.Hour {
		t.Fatalf("addresses: books %b, %+v", last.Books, last.Addrs)
	}
	var raws [][]byte
	for _, a := range last.Addrs {
		raws = append(raws, a.Raw)
	}
	slices.SortFunc(raws, bytes.Compare)
	want := [][]byte{addr(1).Bytes(), addr(2).Bytes()}
	slices.SortFunc(want, bytes.Compare)
	if !slices.EqualFunc(raws, want, bytes.Equal) {
		t.Fatalf("addresses %x, want %x", raws, want)
	}
	if pk, err := ic.UnmarshalPublicKey(last.PublicKey); err != nil || !pk.Equals(sk.GetPublic()) {
		t.Fatalf("public key: %v", err)
	}
	if last.ProtocolsErr != nil || !slices.Equal(last.Protocols, []string{"/a", "/b"}) {
		t.Fatalf("protocols %q, %v", last.Protocols, last.ProtocolsErr)
	}
	if last.MetadataErr != nil || len(last.Metadata) != 4 {
		t.Fatalf("metadata %+v, %v", last.Metadata, last.MetadataErr)
	}
	got := map[string]any{}
	for i, m := range last.Metadata {
		if i > 0 && last.Metadata[i-1].Key >= m.Key {
			t.Fatalf("metadata not sorted by key: %+v", last.Metadata)
		}
		got[m.Key] = m.Value
	}
	if got["AgentVersion"] != "x/1" || got["n"] != 7 || got["d"] != time.Second || !bytes.Equal(got["raw"].([]byte), []byte{1, 2}) {
		t.Fatalf("metadata %#v", got)
	}
}

// Pages that are not journal pages are refused with ErrCorrupt; a
// damaged metadata list is reported beside the rest of the peer.
func TestDecodeJournalPageBad(t *testing.T) {
	seeds := seedPages(t)
	for _, bad := range [][]byte{nil, {0xff}, seeds[0][:len(seeds[0])/2], append([]byte{0x08, 0x02}, seeds[0][2:]...)} {
		if _, err := DecodeJournalPage(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%x: %v, want ErrCorrupt", bad, err)
		}
	}
	pg, err := DecodeJournalPage(seeds[0])
	if err != nil || pg.Kind != "peer" || len(pg.Peers) != 1 {
		t.Fatalf("seed page: %+v, %v", pg, err)
	}
	jp := pg.Peers[0]
	if jp.Record == nil || jp.Record.Seq != 3 || len(jp.Addrs) != 2 || jp.Addrs[1].TTL != time.Minute || !jp.Addrs[1].Expires.Equal(time.Unix(2000, 5)) {
		t.Fatalf("seed peer: %+v", jp)
	}
	// The same peer with its metadata bytes cut short.
	r, err := parsePeer(mustParsePage(t, seeds[0]).peers[0])
	if err != nil {
		t.Fatal(err)
	}
	r.meta = r.meta[:len(r.meta)-1]
	if jp := journalPeer(r); jp.MetadataErr == nil || len(jp.Protocols) != 2 {
		t.Fatalf("cut metadata: %v, protocols %q", jp.MetadataErr, jp.Protocols)
	}
}

func mustParsePage(t *testing.T, data []byte) rawPage {
	t.Helper()
	pg, err := parsePage(data)
	if err != nil {
		t.Fatal(err)
	}
	return pg
}
