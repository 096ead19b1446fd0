package cenc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// The byte forms below are compact-encoding 3.5.2's (c.encode(c.uint, v)).
func TestUintForms(t *testing.T) {
	for _, tc := range []struct {
		v   uint64
		hex string
	}{
		{0, "00"}, {0xFC, "fc"}, {0xFD, "fdfd00"}, {0xFFFF, "fdffff"},
		{0x10000, "fe00000100"}, {0xFFFFFFFF, "feffffffff"},
		{0x100000000, "ff0000000001000000"},
	} {
		got := AppendUint(nil, tc.v)
		if hex.EncodeToString(got) != tc.hex || UintSize(tc.v) != len(got) {
			t.Errorf("AppendUint(%#x) = %x, want %s", tc.v, got, tc.hex)
		}
		d := NewDecoder(got)
		if v := d.Uint(); v != tc.v || d.Err() != nil || d.Len() != 0 {
			t.Errorf("Uint(%s) = %#x, %v", tc.hex, v, d.Err())
		}
	}
}

func TestDecoderBounds(t *testing.T) {
	d := NewDecoder([]byte{0xFE, 1, 2})
	if d.Uint(); !errors.Is(d.Err(), ErrShort) {
		t.Fatalf("truncated uint: %v", d.Err())
	}
	d = NewDecoder([]byte{5, 'a', 'b'})
	if d.Buffer() != nil || !errors.Is(d.Err(), ErrShort) {
		t.Fatalf("buffer past end: %v", d.Err())
	}
	// A count larger than the message could hold is refused before any
	// allocation, whatever limit the caller gives.
	d = NewDecoder(append(AppendUint(nil, 1<<40), make([]byte, 16)...))
	if d.Uint32Array(1<<62) != nil || !errors.Is(d.Err(), ErrTooLarge) {
		t.Fatalf("huge count: %v", d.Err())
	}
	d = NewDecoder(AppendUint32Array(nil, []uint32{1, 2, 3}))
	if d.Uint32Array(2) != nil || !errors.Is(d.Err(), ErrTooLarge) {
		t.Fatalf("count over limit: %v", d.Err())
	}
}

func TestRoundTrip(t *testing.T) {
	var b []byte
	b = AppendString(b, "hypercore/alpha")
	b = AppendBuffer(b, nil)
	b = AppendBuffer(b, []byte{9, 8})
	b = AppendUint32Array(b, []uint32{0xdeadbeef})
	b = append(b, bytes.Repeat([]byte{7}, 32)...)
	d := NewDecoder(b)
	s, n, buf, arr, f := d.String(), d.Buffer(), d.Buffer(), d.Uint32Array(10), d.Fixed32()
	if d.Err() != nil || s != "hypercore/alpha" || n != nil || !bytes.Equal(buf, []byte{9, 8}) ||
		len(arr) != 1 || arr[0] != 0xdeadbeef || f[31] != 7 || d.Len() != 0 {
		t.Fatalf("round trip: %q %v %v %v %v %v", s, n, buf, arr, f, d.Err())
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0xFD, 1, 0, 3, 'a', 'b', 'c'})
	f.Add([]byte{0xFF, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		for d.Err() == nil && d.Len() > 0 {
			before := d.Len()
			_ = d.Uint()
			_ = d.Buffer()
			_ = d.Uint32Array(1 << 20)
			if d.Err() == nil && d.Len() >= before {
				t.Fatal("decoder made no progress")
			}
		}
	})
}
