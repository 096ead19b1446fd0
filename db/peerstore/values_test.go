package peerstore

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"
)

func TestMetadataTypesSurviveRestart(t *testing.T) {
	ps, d := newPS(t, nil)
	values := map[string]any{
		"string": "s", "empty": "", "bytes": []byte{1, 2}, "strings": []string{"a", "b"},
		"bool": true, "int": -7, "int32": int32(-8), "int64": int64(1 << 50), "uint": uint(9),
		"uint8": uint8(255), "uint32": uint32(10), "uint64": uint64(1 << 63), "float32": float32(1.25),
		"float64": 2.5, "duration": 3 * time.Second, "nil": nil,
		"protocols": map[protocol.ID]struct{}{"/a/1": {}, "/b/1": {}}, // pstoreds's protocol book
	}
	for k, v := range values {
		if err := ps.Put("p", k, v); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	for _, bad := range []any{struct{}{}, map[string]int{}, time.Now(), int16(1), &struct{}{}} {
		if err := ps.Put("p", "bad", bad); !errors.Is(err, ErrUnsupportedValue) {
			t.Fatalf("Put(%T): %v", bad, err)
		}
	}
	if err := ps.Put("p", "big", strings.Repeat("x", 65<<10)); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("a large value: %v", err)
	}
	if _, err := ps.Get("p", "bad"); err == nil {
		t.Fatal("a refused value was stored")
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	ps2 := openPS(t, d, nil)
	for k, v := range values {
		got, err := ps2.Get("p", k)
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("%s: got %#v (%T) %v, want %#v (%T)", k, got, got, err, v, v)
		}
	}
}

func TestSameValue(t *testing.T) {
	for _, c := range []struct {
		a, b any
		same bool
	}{
		{1, 1, true}, {1, int64(1), false}, {"a", "a", true}, {[]byte("a"), []byte("a"), true},
		{[]byte(nil), []byte{}, true}, {[]byte("a"), "a", false}, {"a", []byte("a"), false},
		{[]string{"a"}, []string{"a"}, true}, {nil, nil, true}, {nil, 0, false}, {time.Second, time.Second, true},
		{map[protocol.ID]struct{}{"/a": {}}, map[protocol.ID]struct{}{"/a": {}}, true},
		{map[protocol.ID]struct{}{"/a": {}}, []string{"/a"}, false}, {"/a", map[protocol.ID]struct{}{"/a": {}}, false},
	} {
		if got := sameValue(c.a, c.b); got != c.same {
			t.Errorf("sameValue(%#v, %#v) = %v", c.a, c.b, got)
		}
	}
}
