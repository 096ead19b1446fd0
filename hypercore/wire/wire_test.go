package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestRoundTripEveryType(t *testing.T) {
	h := [32]byte{1, 2, 3}
	msgs := []Message{
		&Sync{Fork: 1, Length: 300, RemoteLength: 70000, CanUpgrade: true, AllowPush: true},
		&Request{ID: 9, Fork: 1, Block: &RequestBlock{Index: 5, Nodes: 2}, Hash: &RequestBlock{Index: 3, Nodes: 1},
			Seek: &RequestSeek{Bytes: 100, Padding: 1}, Upgrade: &RequestUpgrade{Start: 4, Length: 8}, Manifest: true, Priority: 1},
		&Cancel{Request: 7},
		&Data{Request: 2, Block: &DataBlock{Index: 1, Value: []byte("x"), Nodes: []Node{{0, 1, h}}},
			Hash: &DataHash{Index: 3, Nodes: []Node{{1, 2, h}}}, Seek: &DataSeek{Bytes: 5},
			Upgrade: &DataUpgrade{Start: 0, Length: 2, Nodes: []Node{{1, 2, h}}, Signature: make([]byte, 64)}},
		&NoData{Request: 3, Reason: ReasonNotAvailable},
		&NoData{Request: 4},
		&Want{Start: 0, Length: 1024, Any: true},
		&Unwant{Start: 0, Length: 1024},
		&Bitfield{Start: 32, Words: []uint32{1, 0xffffffff}},
		&Range{Start: 5, Length: 1},
		&Range{Drop: true, Start: 0, Length: 0},
		&Extension{Name: "ext", Message: []byte{1, 2}},
	}
	for _, m := range msgs {
		b := m.Append(nil)
		got, err := Decode(m.Type(), b)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if again := got.Append(nil); !bytes.Equal(again, b) {
			t.Errorf("%T: %x then %x", m, b, again)
		}
	}
	if _, err := Decode(42, nil); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := Decode(TypeData, []byte{1, 1, 0, 0, 5}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short block: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{{0, 7, 0, 10, 0}, {1, 33, 1, 0, 0, 3, 1}, {3, 8, 1, 0, 0, 10, 2, 7, 56}, {8, 2, 5}, {7, 0, 1, 1, 2, 3, 4}} {
		f.Add(s[0], s[1:])
	}
	f.Fuzz(func(t *testing.T, typ byte, b []byte) {
		m, err := Decode(uint64(typ%12), b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same bytes.
		enc := m.Append(nil)
		m2, err := Decode(m.Type(), enc)
		if err != nil {
			t.Fatalf("re-decode %T: %v", m, err)
		}
		if !bytes.Equal(m2.Append(nil), enc) {
			t.Fatalf("%T unstable", m)
		}
	})
}
