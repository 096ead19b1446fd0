package peerstore

import (
	"bytes"
	"fmt"
	"github.com/libp2p/go-libp2p/core/protocol"
	"math"
	"strings"
	"testing"
	"time"

	mockclock "github.com/benbjohnson/clock"
	"github.com/folio-p2p/folio/db/peerstore/pb"
	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"
)

// FuzzDecodePage feeds arbitrary bytes to the journal page decoder. It
// must never panic; a page it accepts must decode the same with the
// generated protobuf code (the reference) and fold into a projection, and
// that projection must journal and fold again to the same state.
//
//	go test ./db/peerstore -run '^$' -fuzz FuzzDecodePage -fuzztime 60s
func FuzzDecodePage(f *testing.F) {
	for _, pg := range seedPages(f) {
		f.Add(pg)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		it := foldItem{i: 7, data: data}
		decodeOne(&it, newInterner(), 0)
		jp, jerr := DecodeJournalPage(data) // the inspector's view
		if it.err != nil {
			return
		}
		if jerr != nil || (jp.Kind == "checkpoint") != it.checkpoint || (jp.Kind == "checkpoint chunk") != it.chunk || len(jp.Peers) != len(it.peers) {
			t.Fatalf("DecodeJournalPage %+v, %v; the peerstore's decoder %+v", jp, jerr, it)
		}
		for _, p := range jp.Peers {
			if p.ProtocolsErr != nil || p.MetadataErr != nil {
				t.Fatalf("DecodeJournalPage reports %v, %v on a page the peerstore accepts", p.ProtocolsErr, p.MetadataErr)
			}
		}
		ref := foldItem{i: 7, data: data}
		decodeOneProto(&ref)
		if isUTF8Refusal(ref.err) {
			return // strings are bytes to this codec (metacodec.go)
		}
		if ref.err != nil {
			t.Fatalf("the parser accepts a page the generated code refuses: %v", ref.err)
		}
		if ref.checkpoint != it.checkpoint || ref.ckptPeers != it.ckptPeers || ref.chunk != it.chunk || len(ref.peers) != len(it.peers) {
			t.Fatalf("parser %+v, generated code %+v", it, ref)
		}
		clk := mockclock.NewMock()
		clk.Set(time.Unix(1_000, 0))
		o := (&Options{Clock: clk}).withDefaults()
		pr, refPr := newProjection(&o), newProjection(&o)
		f, rf := newFolder(pr), newFolder(refPr)
		f.apply(it, 8)
		f.finish(false)
		rf.apply(ref, 8)
		rf.finish(false)
		if diff := diffCanonical(pr.canonical(clk.Now()), refPr.canonical(clk.Now())); len(diff) > 0 {
			t.Fatalf("the parser and the generated code fold differently: %v", diff)
		}
		// Journal every peer again and fold that: the same state.
		again := newProjection(&o)
		g := newFolder(again)
		in, e := newInterner(), newEncoder()
		for p := range pr.canonical(clk.Now()) {
			snap := pr.capture([]peer.ID{p}, []books{journaled})[0]
			it := foldItem{i: 1, data: e.peerPage(&snap, 1)}
			decodeOne(&it, in, 0)
			if it.err != nil {
				t.Fatalf("a snapshot does not decode: %v", it.err)
			}
			g.apply(it, 2)
		}
		g.finish(false)
		if diff := diffCanonical(pr.canonical(clk.Now()), again.canonical(clk.Now())); len(diff) > 0 {
			t.Fatalf("journal round trip differs: %v", diff)
		}
	})
}

// decodeOneProto is decodeOne with the generated code: the reference.
func decodeOneProto(it *foldItem) {
	var pg pb.Page
	if it.err = proto.Unmarshal(it.data, &pg); it.err != nil {
		return
	}
	if pg.Version != formatVersion {
		it.err = fmt.Errorf("format version %d", pg.Version)
		return
	}
	var recs []*pb.Peer
	switch body := pg.Body.(type) {
	case *pb.Page_Checkpoint:
		it.checkpoint, it.ckptPeers = true, body.Checkpoint.GetPeers()
	case *pb.Page_Peer:
		recs = []*pb.Peer{body.Peer}
	case *pb.Page_Chunk:
		it.chunk, recs = true, body.Chunk.GetPeers()
	default:
		it.err = fmt.Errorf("no body")
		return
	}
	in, err := refInterner(recs)
	if err != nil {
		it.err = err
		return
	}
	for _, rec := range recs {
		if rec == nil {
			rec = &pb.Peer{}
		}
		if it.chunk && rec.Books != uint32(journaled) {
			it.err = fmt.Errorf("chunk peer restates books %#x", rec.Books)
			return
		}
		st, err := decodePeer(rawFromProto(rec), in)
		if err != nil {
			it.err = err
			return
		}
		it.peers = append(it.peers, st)
	}
}

// seedPages returns valid pages of every kind.
func seedPages(tb testing.TB) [][]byte {
	sk, _, _ := ic.GenerateEd25519Key(zeroReader{})
	p, _ := peer.IDFromPrivateKey(sk)
	pk, _ := ic.MarshalPublicKey(sk.GetPublic())
	rec := peer.NewPeerRecord()
	rec.PeerID, rec.Seq, rec.Addrs = p, 3, []ma.Multiaddr{addr(1)}
	env, err := record.Seal(rec, sk)
	if err != nil {
		tb.Fatal(err)
	}
	envBytes, _ := env.Marshal()
	protos, _ := proto.Marshal(&pb.StringList{Values: []string{"/a", "/b"}})
	meta, _ := proto.Marshal(&pb.MetaList{Entries: []*pb.Meta{
		{Key: "AgentVersion", Value: encodeValue("x/1")}, {Key: "n", Value: encodeValue(7)},
		{Key: "d", Value: encodeValue(time.Second)}, {Key: "b", Value: encodeValue([]byte{1})}}})
	full := &pb.Peer{Id: []byte(p), Books: uint32(journaled),
		Addrs: [][]byte{addr(1).Bytes(), addr(2).Bytes()}, AddrTtls: []int64{int64(time.Hour), int64(time.Minute)},
		AddrExpirySeconds: []int64{5000, 2000}, AddrExpiryNanos: []int32{0, 5},
		Record: &pb.SignedRecord{Envelope: envBytes, Seq: 3}, PublicKey: pk, Protocols: protos, Metadata: meta}
	var out [][]byte
	for _, pg := range []*pb.Page{
		{Body: &pb.Page_Peer{Peer: full}},
		{Body: &pb.Page_Peer{Peer: &pb.Peer{Id: []byte("plain"), Books: uint32(bookProtos), Protocols: protos}}},
		{Body: &pb.Page_Checkpoint{Checkpoint: &pb.Checkpoint{Peers: 2}}},
		{Body: &pb.Page_Chunk{Chunk: &pb.Chunk{Peers: []*pb.Peer{full, {Id: []byte("q"), Books: uint32(journaled)}}}}},
	} {
		pg.Version, pg.Time = formatVersion, 1
		data, err := proto.Marshal(pg)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestSeedPagesFold checks the fuzzer's seeds decode (so it starts from
// valid pages).
func TestSeedPagesFold(t *testing.T) {
	for i, pg := range seedPages(t) {
		it := foldItem{i: 1, data: pg}
		decodeOne(&it, newInterner(), 0)
		if it.err != nil {
			t.Fatalf("seed %d: %v", i, it.err)
		}
	}
}

// FuzzDecodeMeta feeds arbitrary bytes to the metadata list decoder. It
// must never panic; a list it accepts must decode the same with the
// generated code, and encode again to what the generated code writes.
//
//	go test ./db/peerstore -run '^$' -fuzz FuzzDecodeMeta -fuzztime 60s
func FuzzDecodeMeta(f *testing.F) {
	for _, m := range everyValueKind() {
		f.Add(encodeMeta(m))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMeta(data)
		if err != nil {
			return
		}
		ref, err := refDecodeMeta(data)
		if isUTF8Refusal(err) {
			return // strings are bytes to this codec (metacodec.go)
		}
		if err != nil {
			t.Fatalf("the parser accepts a list the generated code refuses: %v", err)
		}
		if !sameMetaEncoded(m, ref) {
			t.Fatalf("parser %#v, generated code %#v", m, ref)
		}
		if got, want := encodeMeta(m), refEncodeMeta(m); len(m) > 0 && !bytes.Equal(got, want) {
			t.Fatalf("encoded %x, generated code %x", got, want)
		}
	})
}

// sameMetaEncoded reports whether two metadata maps hold the same
// values, compared encoded (a NaN equals itself).
func sameMetaEncoded(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || (v == nil) != (w == nil) {
			return false
		}
		if v != nil && !bytes.Equal(appendValue(nil, v), appendValue(nil, w)) {
			return false
		}
	}
	return true
}

// isUTF8Refusal reports whether the generated code refused a string that
// is not UTF-8.
func isUTF8Refusal(err error) bool {
	return err != nil && strings.Contains(err.Error(), "invalid UTF-8")
}

// everyValueKind returns metadata maps holding every kind of value the
// journal keeps, including edge values.
func everyValueKind() []map[string]any {
	return []map[string]any{
		{"AgentVersion": "go-libp2p/0.47", "ProtocolVersion": "ipfs/0.1.0", "": "empty key", "nil": nil},
		{"b": []byte{0, 1}, "eb": []byte{}, "s": []string{"x", ""}, "es": []string{}},
		{"t": true, "f": false, "i": -1, "i64": int64(math.MinInt64), "i32": int32(math.MinInt32)},
		{"u": uint(math.MaxUint), "u8": uint8(255), "u32": uint32(math.MaxUint32), "u64": uint64(math.MaxUint64)},
		{"f32": float32(-1.5), "f64": math.Inf(-1), "d": -time.Second, "z": 0},
		{"protocols": map[protocol.ID]struct{}{"/ipfs/id/1.0.0": {}, "/b": {}}, "none": map[protocol.ID]struct{}{}},
	}
}

// TestMetaCodecMatchesGenerated: every kind of value encodes to the bytes
// the generated code writes (so journals written before this codec, by
// the generated code, read the same) and decodes back to itself.
func TestMetaCodecMatchesGenerated(t *testing.T) {
	for _, m := range everyValueKind() {
		got, want := encodeMeta(m), refEncodeMeta(m)
		if !bytes.Equal(got, want) {
			t.Errorf("%v: encoded %x, generated code %x", m, got, want)
		}
		back, err := parseMeta(want)
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		if !sameMetaEncoded(back, m) {
			t.Errorf("round trip: %#v, want %#v", back, m)
		}
		for k, v := range back {
			if fmt.Sprintf("%T", v) != fmt.Sprintf("%T", m[k]) {
				t.Errorf("%q: type %T, want %T", k, v, m[k])
			}
		}
	}
	if _, err := parseMeta([]byte{0x0a, 0x05, 0x12, 0x03, 0x80, 0x01, 0x01}); err == nil {
		t.Error("a value of no known kind (only a field 16) was accepted")
	}
}
