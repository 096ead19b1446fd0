package peerstore

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/encoding/protowire"
)

// The codec of the embedded lists of a Peer page (StringList, MetaList,
// Meta, Value of pb/peerstore.proto), on protowire like the page codec
// (encode.go, parse.go): one codec for the whole format. The generated
// code in pb is the reference the tests hold it to. Strings are kept as
// bytes: unlike the generated code, invalid UTF-8 is neither refused on
// write nor on read, so a metadata string round-trips whatever it holds.

// Field numbers of MetaList, Meta and Value.
const (
	fMetaListEntries        = 1
	fMetaKey, fMetaValue    = 1, 2
	fValString, fValBytes   = 1, 2
	fValBool, fValInt       = 3, 4
	fValInt64, fValInt32    = 5, 6
	fValUint, fValUint64    = 7, 8
	fValUint32, fValFloat64 = 9, 10
	fValDuration            = 11
	fValStrings, fValFloat  = 12, 13
	fValUint8, fValProtoSet = 14, 15
)

// appendStringList appends the fields of a StringList.
func appendStringList(buf []byte, values []string) []byte {
	for _, v := range values {
		buf = protowire.AppendTag(buf, fStringListValues, protowire.BytesType)
		buf = protowire.AppendString(buf, v)
	}
	return buf
}

// sortedProtos returns a protocol set's IDs, sorted.
func sortedProtos(m map[protocol.ID]struct{}) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, string(id))
	}
	slices.Sort(ids)
	return ids
}

// encodeMeta returns the journal form of a metadata map (a MetaList,
// sorted by key; nil if empty).
func encodeMeta(m map[string]any) []byte {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out, entry []byte
	for _, k := range keys {
		entry = entry[:0]
		if k != "" { // proto3: an empty string is not written
			entry = protowire.AppendTag(entry, fMetaKey, protowire.BytesType)
			entry = protowire.AppendString(entry, k)
		}
		if v := m[k]; v != nil {
			entry = protowire.AppendTag(entry, fMetaValue, protowire.BytesType)
			entry = protowire.AppendBytes(entry, appendValue(nil, v))
		}
		out = protowire.AppendTag(out, fMetaListEntries, protowire.BytesType)
		out = protowire.AppendBytes(out, entry)
	}
	return out
}

// appendValue appends the fields of the Value message of an accepted,
// non-nil value.
func appendValue(buf []byte, v any) []byte {
	tag := func(num protowire.Number, typ protowire.Type) {
		buf = protowire.AppendTag(buf, num, typ)
	}
	switch x := v.(type) {
	case string:
		tag(fValString, protowire.BytesType)
		buf = protowire.AppendString(buf, x)
	case []byte:
		tag(fValBytes, protowire.BytesType)
		buf = protowire.AppendBytes(buf, x)
	case []string:
		tag(fValStrings, protowire.BytesType)
		buf = protowire.AppendBytes(buf, appendStringList(nil, x))
	case map[protocol.ID]struct{}:
		tag(fValProtoSet, protowire.BytesType)
		buf = protowire.AppendBytes(buf, appendStringList(nil, sortedProtos(x)))
	case bool:
		tag(fValBool, protowire.VarintType)
		buf = protowire.AppendVarint(buf, protowire.EncodeBool(x))
	case int:
		tag(fValInt, protowire.VarintType)
		buf = protowire.AppendVarint(buf, protowire.EncodeZigZag(int64(x)))
	case int64:
		tag(fValInt64, protowire.VarintType)
		buf = protowire.AppendVarint(buf, protowire.EncodeZigZag(x))
	case int32:
		tag(fValInt32, protowire.VarintType)
		buf = protowire.AppendVarint(buf, protowire.EncodeZigZag(int64(x)))
	case uint:
		tag(fValUint, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(x))
	case uint64:
		tag(fValUint64, protowire.VarintType)
		buf = protowire.AppendVarint(buf, x)
	case uint32:
		tag(fValUint32, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(x))
	case uint8:
		tag(fValUint8, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(x))
	case time.Duration:
		tag(fValDuration, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(x))
	case float64:
		tag(fValFloat64, protowire.Fixed64Type)
		buf = protowire.AppendFixed64(buf, math.Float64bits(x))
	case float32:
		tag(fValFloat, protowire.Fixed32Type)
		buf = protowire.AppendFixed32(buf, math.Float32bits(x))
	default:
		panic(fmt.Sprintf("peerstore: appendValue(%T): checkValue let it through", v))
	}
	return buf
}

// parseStringList parses a StringList.
func parseStringList(b []byte) ([]string, error) {
	var out []string
	err := fields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num != fStringListValues {
			return -1, nil
		}
		v, n, err := bytesField(typ, b)
		out = append(out, string(v))
		return n, err
	})
	return out, err
}

// parseMeta parses a MetaList into a map. A key twice is an error (the
// encoder writes each once).
func parseMeta(b []byte) (map[string]any, error) {
	m := make(map[string]any)
	err := fields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num != fMetaListEntries {
			return -1, nil
		}
		entry, n, err := bytesField(typ, b)
		if err != nil {
			return 0, err
		}
		k, v, err := parseMetaEntry(entry)
		if err != nil {
			return 0, err
		}
		if _, dup := m[k]; dup {
			return 0, fmt.Errorf("metadata %q twice", k)
		}
		m[k] = v
		return n, nil
	})
	return m, err
}

func parseMetaEntry(b []byte) (string, any, error) {
	var key string
	var val any
	var seen singular
	err := fields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num != fMetaKey && num != fMetaValue {
			return -1, nil
		}
		if err := seen.once(num); err != nil {
			return 0, err
		}
		v, n, err := bytesField(typ, b)
		if err != nil {
			return 0, err
		}
		if num == fMetaKey {
			key = string(v)
			return n, nil
		}
		val, err = parseValue(v)
		return n, err
	})
	if err != nil {
		return "", nil, fmt.Errorf("metadata %q: %w", key, err)
	}
	return key, val, nil
}

// parseValue parses a Value message: exactly one kind.
func parseValue(b []byte) (any, error) {
	var val any
	kinds := 0
	err := fields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num < fValString || num > fValProtoSet {
			return -1, nil
		}
		if kinds++; kinds > 1 {
			return 0, fmt.Errorf("a second kind")
		}
		var n int
		var err error
		val, n, err = valueField(num, typ, b)
		return n, err
	})
	if err == nil && kinds == 0 {
		err = fmt.Errorf("metadata value of unknown kind")
	}
	return val, err
}

// valueField decodes the field num of a Value.
func valueField(num protowire.Number, typ protowire.Type, b []byte) (any, int, error) {
	switch num {
	case fValString, fValBytes, fValStrings, fValProtoSet:
		v, n, err := bytesField(typ, b)
		if err != nil {
			return nil, 0, err
		}
		switch num {
		case fValString:
			return string(v), n, nil
		case fValBytes:
			return append([]byte{}, v...), n, nil
		}
		list, err := parseStringList(v)
		if err != nil {
			return nil, 0, err
		}
		if num == fValStrings {
			return append([]string{}, list...), n, nil
		}
		set := make(map[protocol.ID]struct{}, len(list))
		for _, id := range list {
			set[protocol.ID(id)] = struct{}{}
		}
		return set, n, nil
	case fValFloat64:
		if typ != protowire.Fixed64Type {
			return nil, 0, errWireType
		}
		v, n := protowire.ConsumeFixed64(b)
		return math.Float64frombits(v), n, protoErr(n)
	case fValFloat:
		if typ != protowire.Fixed32Type {
			return nil, 0, errWireType
		}
		v, n := protowire.ConsumeFixed32(b)
		return math.Float32frombits(v), n, protoErr(n)
	}
	v, n, err := varint(typ, b)
	if err != nil {
		return nil, 0, err
	}
	switch num {
	case fValBool:
		return protowire.DecodeBool(v), n, nil
	case fValInt:
		return int(protowire.DecodeZigZag(v)), n, nil
	case fValInt64:
		return protowire.DecodeZigZag(v), n, nil
	case fValInt32:
		return int32(protowire.DecodeZigZag(v & math.MaxUint32)), n, nil
	case fValUint:
		return uint(v), n, nil
	case fValUint64:
		return v, n, nil
	case fValUint32:
		return uint32(v), n, nil
	case fValUint8:
		if v > 0xff {
			return nil, 0, fmt.Errorf("uint8 value %d", v)
		}
		return uint8(v), n, nil
	}
	return time.Duration(int64(v)), n, nil // fValDuration
}

func protoErr(n int) error {
	if n < 0 {
		return protowire.ParseError(n)
	}
	return nil
}
