package peerstore

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"
)

// Metadata values are journaled with their Go type, so that Get returns
// what Put was given. The types kept are those go-libp2p and its suites
// store (string, int) and the common plain ones:
//
//	nil, string, []byte, []string, bool, int, int32, int64, uint, uint8,
//	uint32, uint64, float32, float64, time.Duration,
//	map[protocol.ID]struct{} (go-libp2p's pstoreds protocol book's)
//
// Put refuses any other type with ErrUnsupportedValue. An empty []byte or
// []string comes back from the journal empty but not nil.

// checkValue refuses a value the journal cannot keep.
func checkValue(v any, maxSize int) error {
	size := 0
	switch x := v.(type) {
	case nil, bool, int, int32, int64, uint, uint8, uint32, uint64, float32, float64, time.Duration:
	case string:
		size = len(x)
	case []byte:
		size = len(x)
	case []string:
		for _, s := range x {
			size += len(s) + 1
		}
	case map[protocol.ID]struct{}:
		for s := range x {
			size += len(s) + 1
		}
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedValue, v)
	}
	if size > maxSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrValueTooLarge, size, maxSize)
	}
	return nil
}

// sameValue reports whether two accepted values are equal (same type and
// value; nil and empty slices are equal).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []string:
		y, ok := b.([]string)
		return ok && slices.Equal(x, y)
	case map[protocol.ID]struct{}:
		y, ok := b.(map[protocol.ID]struct{})
		return ok && sameProtos(x, y)
	}
	switch b.(type) {
	case []byte, []string, map[protocol.ID]struct{}:
		return false
	}
	return a == b
}
