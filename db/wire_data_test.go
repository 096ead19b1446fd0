package db

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
	"google.golang.org/protobuf/proto"
)

// dataProofs are proofs of every shape a session sends: range, upgrade,
// both, from page 0 (zero fields left out), with an empty page.
func dataProofs(tb testing.TB, m *malWriter) []*book.Proof {
	var out []*book.Proof
	for _, req := range []book.ProofRequest{
		{Range: &book.RangeRequest{Start: 10, End: 20}, Upgrade: &book.UpgradeRequest{Start: 10}},
		{Range: &book.RangeRequest{Start: 0, End: 1}},
		{Range: &book.RangeRequest{Start: 3, End: 17}},
		{Upgrade: &book.UpgradeRequest{Start: 0}},
		{Upgrade: &book.UpgradeRequest{Start: 7}},
	} {
		p, err := m.w.Proof(req)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	empty := &book.Proof{Fork: 3, Range: &book.RangeProof{Start: 5, Values: [][]byte{{}, []byte("x")}}}
	return append(out, empty)
}

// TestDataFrameIsProtobuf: appendDataFrame writes what protobuf writes for
// the same Data, byte for byte, so a peer decoding with protobuf (an older
// folio) reads it; decodeData reads it back to the same message, with the
// pages in the frame's buffer.
func TestDataFrameIsProtobuf(t *testing.T) {
	m := newMalWriter(t)
	for i, p := range dataProofs(t, m) {
		for _, id := range []uint64{pushID, 1, 1 << 40} {
			for _, ch := range []uint32{0, 1, 300} {
				want, err := appendFrame([]byte("prefix"), &pb.Message{Body: &pb.Message_Data{Data: toPBData(ch, id, p)}})
				if err != nil {
					t.Fatal(err)
				}
				got := appendDataFrame([]byte("prefix"), ch, id, p)
				if !bytes.Equal(got, want) {
					t.Fatalf("proof %d id %d channel %d: frame\n%x\nprotobuf writes\n%x", i, id, ch, got, want)
				}
				body := got[len("prefix"):]
				size, n := binary.Uvarint(body)
				body = body[n:]
				if n <= 0 || size != uint64(len(body)) {
					t.Fatalf("proof %d: frame length %d for a body of %d bytes", i, size, len(body))
				}
				msg, ok := decodeData(body)
				if !ok {
					t.Fatalf("proof %d id %d channel %d: decodeData refused its own frame", i, id, ch)
				}
				var pm pb.Message
				if err := proto.Unmarshal(body, &pm); err != nil || !proto.Equal(msg, &pm) {
					t.Fatalf("proof %d: decodeData %v, protobuf %v (%v)", i, msg, &pm, err)
				}
				if r := msg.GetData().GetRange(); r != nil && len(r.Values) > 0 && len(r.Values[0]) > 0 {
					if !aliases(body, r.Values[0]) {
						t.Fatalf("proof %d: a page was copied out of the frame", i)
					}
				}
			}
		}
	}
}

// aliases reports whether v lies in b's memory: flipping b's bytes
// changes v (b is restored).
func aliases(b, v []byte) bool {
	old := v[0]
	for i := range b {
		b[i] ^= 0xff
	}
	changed := v[0] != old
	for i := range b {
		b[i] ^= 0xff
	}
	return changed
}

// TestDecodeDataFallsBack: what protobuf reads but decodeData's layout
// does not cover goes to protobuf, with the same result either way.
func TestDecodeDataFallsBack(t *testing.T) {
	m := newMalWriter(t)
	p := dataProofs(t, m)[0]
	frame := appendDataFrame(nil, 1, 2, p)
	_, n := binary.Uvarint(frame)
	body := frame[n:]
	twice := append(append([]byte(nil), body...), body...) // two bodies: checkShape refuses
	unknown := append(append([]byte(nil), body...), 0x48, 0x01)
	for name, b := range map[string][]byte{
		"sync":          mustMarshal(t, fakeSync(0, 20)),
		"two data":      twice,
		"unknown field": unknown,
		"empty":         {},
	} {
		if _, ok := decodeData(b); ok {
			t.Errorf("%s: decodeData took it", name)
		}
		got, err := decodeMessage(b)
		var want pb.Message
		werr := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &want)
		switch {
		case err == nil && (werr != nil || !proto.Equal(got, &want)):
			t.Errorf("%s: decodeMessage %v, protobuf %v (%v)", name, got, &want, werr)
		case err != nil && name == "sync":
			t.Errorf("%s: %v", name, err)
		}
	}
}

func mustMarshal(tb testing.TB, m *pb.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzDecodeData holds decodeData to protobuf: whatever it takes, protobuf
// decodes to the same message.
//
//	go test -run='^$' -fuzz=FuzzDecodeData -fuzztime=60s ./db
func FuzzDecodeData(f *testing.F) {
	m := newMalWriter(f)
	for _, p := range dataProofs(f, m) {
		frame := appendDataFrame(nil, fakeChan, 1, p)
		_, n := binary.Uvarint(frame)
		f.Add(frame[n:])
	}
	f.Add([]byte{0x2a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, ok := decodeData(b)
		if !ok {
			return
		}
		var want pb.Message
		if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &want); err != nil {
			t.Fatalf("decodeData took what protobuf refuses (%v): %x", err, b)
		}
		if !proto.Equal(msg, &want) {
			t.Fatalf("decodeData %v, protobuf %v", msg, &want)
		}
	})
}
