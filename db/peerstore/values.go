package peerstore

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/folio-p2p/folio/db/peerstore/pb"
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

// encodeValue returns the journal form of an accepted value (nil for nil).
func encodeValue(v any) *pb.Value {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return &pb.Value{Kind: &pb.Value_String_{String_: x}}
	case []byte:
		return &pb.Value{Kind: &pb.Value_Bytes{Bytes: x}}
	case []string:
		return &pb.Value{Kind: &pb.Value_Strings{Strings: &pb.StringList{Values: x}}}
	case bool:
		return &pb.Value{Kind: &pb.Value_Bool{Bool: x}}
	case int:
		return &pb.Value{Kind: &pb.Value_Int{Int: int64(x)}}
	case int32:
		return &pb.Value{Kind: &pb.Value_Int32{Int32: x}}
	case int64:
		return &pb.Value{Kind: &pb.Value_Int64{Int64: x}}
	case uint:
		return &pb.Value{Kind: &pb.Value_Uint{Uint: uint64(x)}}
	case uint8:
		return &pb.Value{Kind: &pb.Value_Uint8{Uint8: uint32(x)}}
	case uint32:
		return &pb.Value{Kind: &pb.Value_Uint32{Uint32: x}}
	case uint64:
		return &pb.Value{Kind: &pb.Value_Uint64{Uint64: x}}
	case float32:
		return &pb.Value{Kind: &pb.Value_Float32{Float32: x}}
	case float64:
		return &pb.Value{Kind: &pb.Value_Float64{Float64: x}}
	case time.Duration:
		return &pb.Value{Kind: &pb.Value_Duration{Duration: int64(x)}}
	case map[protocol.ID]struct{}:
		ids := make([]string, 0, len(x))
		for id := range x {
			ids = append(ids, string(id))
		}
		slices.Sort(ids)
		return &pb.Value{Kind: &pb.Value_ProtocolSet{ProtocolSet: &pb.StringList{Values: ids}}}
	}
	panic(fmt.Sprintf("peerstore: encodeValue(%T): checkValue let it through", v))
}

// decodeValue returns the Go value of a journaled one.
func decodeValue(v *pb.Value) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k := v.Kind.(type) {
	case *pb.Value_String_:
		return k.String_, nil
	case *pb.Value_Bytes:
		return append([]byte{}, k.Bytes...), nil
	case *pb.Value_Strings:
		return append([]string{}, k.Strings.GetValues()...), nil
	case *pb.Value_Bool:
		return k.Bool, nil
	case *pb.Value_Int:
		return int(k.Int), nil
	case *pb.Value_Int32:
		return k.Int32, nil
	case *pb.Value_Int64:
		return k.Int64, nil
	case *pb.Value_Uint:
		return uint(k.Uint), nil
	case *pb.Value_Uint8:
		if k.Uint8 > 0xff {
			return nil, fmt.Errorf("uint8 value %d", k.Uint8)
		}
		return uint8(k.Uint8), nil
	case *pb.Value_Uint32:
		return k.Uint32, nil
	case *pb.Value_Uint64:
		return k.Uint64, nil
	case *pb.Value_Float32:
		return k.Float32, nil
	case *pb.Value_Float64:
		return k.Float64, nil
	case *pb.Value_Duration:
		return time.Duration(k.Duration), nil
	case *pb.Value_ProtocolSet:
		m := make(map[protocol.ID]struct{}, len(k.ProtocolSet.GetValues()))
		for _, id := range k.ProtocolSet.GetValues() {
			m[protocol.ID(id)] = struct{}{}
		}
		return m, nil
	}
	return nil, fmt.Errorf("metadata value of unknown kind")
}
