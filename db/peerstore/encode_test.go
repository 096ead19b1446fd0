package peerstore

import (
	"bytes"
	"testing"
	"time"

	"github.com/folio-p2p/folio/db/peerstore/pb"
	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The hand-written encoder must produce exactly the messages of
// pb/peerstore.proto: its output is decoded with the generated code and
// compared with the message built field by field.
func TestEncoderMatchesProto(t *testing.T) {
	sk, _, _ := ic.GenerateEd25519Key(zeroReader{})
	p, _ := peer.IDFromPrivateKey(sk)
	rec := peer.NewPeerRecord()
	rec.PeerID, rec.Seq, rec.Addrs = p, 9, []ma.Multiaddr{addr(1)}
	env, err := record.Seal(rec, sk)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(1_700_000_000, 123)
	far := time.Unix(1<<40, 999_999_999) // past int64 nanoseconds
	s := peerSnap{
		id: p, books: journaled,
		addrs:  []addrCopy{{addr(1), time.Hour, exp}, {addr(2), 1<<63 - 1, far}},
		record: &peerRecordState{Envelope: env, Seq: 9},
		pubKey: sk.GetPublic(),
		protos: map[protocol.ID]struct{}{"/b": {}, "/a": {}},
		meta:   map[string]any{"z": 1, "a": "x"},
	}
	envBytes, _ := env.Marshal()
	pk, _ := ic.MarshalPublicKey(sk.GetPublic())
	protos, _ := proto.Marshal(&pb.StringList{Values: []string{"/a", "/b"}})
	meta, _ := proto.Marshal(&pb.MetaList{Entries: []*pb.Meta{{Key: "a", Value: encodeValue("x")}, {Key: "z", Value: encodeValue(1)}}})
	want := &pb.Peer{
		Id: []byte(p), Books: uint32(journaled),
		Addrs:    [][]byte{addr(1).Bytes(), addr(2).Bytes()},
		AddrTtls: []int64{int64(time.Hour), 1<<63 - 1}, AddrExpirySeconds: []int64{exp.Unix(), far.Unix()},
		AddrExpiryNanos: []int32{123, 999_999_999},
		Record:          &pb.SignedRecord{Envelope: envBytes, Seq: 9}, PublicKey: pk, Protocols: protos, Metadata: meta,
	}
	e := newEncoder()
	var got pb.Page
	if err := proto.Unmarshal(e.peerPage(&s, 42), &got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&got, &pb.Page{Version: 1, Time: 42, Body: &pb.Page_Peer{Peer: want}}) {
		t.Fatalf("peer page decodes to %v\nwant %v", &got, want)
	}
	if err := proto.Unmarshal(chunkPage([][]byte{e.appendPeer(nil, &s), e.appendPeer(nil, &peerSnap{id: "q"})}, 7), &got); err != nil {
		t.Fatal(err)
	}
	wantChunk := &pb.Page{Version: 1, Time: 7, Body: &pb.Page_Chunk{Chunk: &pb.Chunk{Peers: []*pb.Peer{want, {Id: []byte("q")}}}}}
	if !proto.Equal(&got, wantChunk) {
		t.Fatalf("chunk page decodes to %v", &got)
	}
	if err := proto.Unmarshal(checkpointPage(5, 8), &got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&got, &pb.Page{Version: 1, Time: 8, Body: &pb.Page_Checkpoint{Checkpoint: &pb.Checkpoint{Peers: 5}}}) {
		t.Fatalf("checkpoint page decodes to %v", &got)
	}
	// And it folds back to the same state.
	it := foldItem{i: 1, data: e.peerPage(&s, 42)}
	decodeOne(&it, newInterner(), 0)
	if it.err != nil {
		t.Fatal(it.err)
	}
	st := it.peers[0]
	if len(st.addrs) != 2 || !st.addrs[1].Expiry.Equal(far) || st.addrs[1].TTL != 1<<63-1 || st.record.Seq != 9 ||
		!st.pubKey.Equals(sk.GetPublic()) || len(st.protos) != 2 || st.meta["z"] != 1 {
		t.Fatalf("folded %+v", st)
	}
}

// Equal protocol sets and metadata maps at different addresses encode
// once (the content cache) and to exactly the bytes each would alone.
func TestEncoderContentCache(t *testing.T) {
	e := newEncoder()
	p1 := map[protocol.ID]struct{}{"/a": {}, "/b": {}}
	p2 := map[protocol.ID]struct{}{"/b": {}, "/a": {}}
	m1 := map[string]any{"AgentVersion": "x/1", "n": 3, "raw": []byte{1}}
	m2 := map[string]any{"raw": []byte{1}, "n": 3, "AgentVersion": "x/1"}
	b1, b2 := e.protoBytes(p1), e.protoBytes(p2)
	if !bytes.Equal(b1, b2) || !bytes.Equal(b2, newEncoder().protoBytes(p2)) {
		t.Fatal("equal protocol sets encode differently")
	}
	if len(e.protos) != 1 {
		t.Fatalf("%d protocol sets encoded, want 1", len(e.protos))
	}
	if c1, c2 := e.metaBytes(m1), e.metaBytes(m2); !bytes.Equal(c1, c2) || !bytes.Equal(c2, newEncoder().metaBytes(m2)) || len(e.meta) != 1 {
		t.Fatal("equal metadata maps encode differently, or twice")
	}
	m3 := map[string]any{"AgentVersion": "x/2", "n": 3, "raw": []byte{1}}
	if bytes.Equal(e.metaBytes(m3), e.metaBytes(m1)) {
		t.Fatal("different metadata maps share an encoding")
	}
}

// TestPublicKeyEncoding holds the hand-written key encoding to
// ic.MarshalPublicKey for every key type go-libp2p makes.
func TestPublicKeyEncoding(t *testing.T) {
	for _, typ := range []int{ic.Ed25519, ic.Secp256k1, ic.ECDSA, ic.RSA} {
		_, pk, err := ic.GenerateKeyPair(typ, 2048)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ic.MarshalPublicKey(pk)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := pk.Raw()
		if err != nil {
			t.Fatal(err)
		}
		got, n := protowire.ConsumeBytes(appendPublicKey(nil, pk.Type(), raw))
		if n < 0 || !bytes.Equal(got, want) {
			t.Errorf("key type %v: encoded %x, ic.MarshalPublicKey %x", pk.Type(), got, want)
		}
	}
}
