package peerstore

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/folio-p2p/folio/db/peerstore/pb"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
)

// The reference codec: the generated code of pb/peerstore.proto, which
// the tests hold the package's codec (encode.go, parse.go, metacodec.go)
// to. It is not used outside tests.

// refInterner returns an interner whose protocol sets and metadata maps
// are decoded by the generated code, for the lists in recs.
func refInterner(recs []*pb.Peer) (*interner, error) {
	in := newInterner()
	for _, r := range recs {
		if len(r.GetProtocols()) > 0 {
			var list pb.StringList
			if err := proto.Unmarshal(r.Protocols, &list); err != nil {
				return nil, fmt.Errorf("protocols: %w", err)
			}
			m := make(map[protocol.ID]struct{}, len(list.Values))
			for _, p := range list.Values {
				m[protocol.ID(p)] = struct{}{}
			}
			in.protos[string(r.Protocols)] = m
		}
		if len(r.GetMetadata()) > 0 {
			m, err := refDecodeMeta(r.Metadata)
			if err != nil {
				return nil, err
			}
			in.meta[string(r.Metadata)] = m
		}
	}
	return in, nil
}

// refDecodeMeta decodes a MetaList with the generated code.
func refDecodeMeta(data []byte) (map[string]any, error) {
	var list pb.MetaList
	if err := proto.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	m := make(map[string]any, len(list.Entries))
	for _, e := range list.Entries {
		v, err := decodeValue(e.Value)
		if err != nil {
			return nil, fmt.Errorf("metadata %q: %w", e.Key, err)
		}
		m[e.Key] = v
	}
	return m, nil
}

// refEncodeMeta encodes a metadata map with the generated code.
func refEncodeMeta(m map[string]any) []byte {
	list := &pb.MetaList{}
	for k, v := range m {
		list.Entries = append(list.Entries, &pb.Meta{Key: k, Value: encodeValue(v)})
	}
	slices.SortFunc(list.Entries, func(a, b *pb.Meta) int { return strings.Compare(a.Key, b.Key) })
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(list)
	if err != nil {
		panic(err)
	}
	return b
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

// rawFromProto gives a generated Peer the parser's form (the reference
// path: tests, and pages decoded by the generated code).
func rawFromProto(p *pb.Peer) rawPeer {
	r := rawPeer{id: p.Id, books: p.Books, addrs: p.Addrs, ttls: p.AddrTtls, expSec: p.AddrExpirySeconds,
		expNanos: p.AddrExpiryNanos, pubKey: p.PublicKey, protos: p.Protocols, meta: p.Metadata,
		lastConn: p.LastConnected}
	if p.Record != nil {
		r.record = &rawRecord{envelope: p.Record.Envelope, seq: p.Record.Seq}
	}
	return r
}
