package wire

import (
	"fmt"

	"github.com/folio-p2p/folio/hypercore/cenc"
)

// nodeSize is the smallest encoding of a Node (two 1-byte uints + hash).
const nodeSize = 34

func decodeNodes(d *cenc.Decoder) []Node {
	n := d.Count(nodeSize, MaxNodes)
	if n == 0 {
		return nil
	}
	out := make([]Node, n)
	for i := range out {
		out[i] = Node{Index: d.Uint(), Size: d.Uint(), Hash: d.Fixed32()}
	}
	return out
}

// optFlags reads a trailing flags uint that older peers omit.
func optFlags(d *cenc.Decoder) uint64 {
	if d.Len() == 0 {
		return 0
	}
	return d.Uint()
}

// DecodeHandshake decodes a hypercore channel's open message.
func DecodeHandshake(b []byte) (*Handshake, error) {
	d := cenc.NewDecoder(b)
	m := &Handshake{Seeks: d.Uint()&1 != 0, Capability: d.Fixed32()}
	return m, wrap(d, "handshake")
}

// Decode decodes message b of type typ. Slices in the result alias b.
func Decode(typ uint64, b []byte) (Message, error) {
	d := cenc.NewDecoder(b)
	var m Message
	switch typ {
	case TypeSync:
		f := d.Uint()
		m = &Sync{Fork: d.Uint(), Length: d.Uint(), RemoteLength: d.Uint(),
			CanUpgrade: f&1 != 0, Uploading: f&2 != 0, Downloading: f&4 != 0, HasManifest: f&8 != 0, AllowPush: f&16 != 0}
	case TypeRequest:
		m = decodeRequest(d)
	case TypeCancel:
		m = &Cancel{Request: d.Uint()}
	case TypeData:
		m = decodeData(d)
	case TypeNoData:
		r := &NoData{Request: d.Uint()}
		if optFlags(d)&1 != 0 {
			r.Reason = d.Uint()
		}
		m = r
	case TypeWant, TypeUnwant:
		w := Want{Start: d.Uint(), Length: d.Uint()}
		w.Any = optFlags(d)&1 != 0
		if typ == TypeWant {
			m = &w
		} else {
			u := Unwant(w)
			m = &u
		}
	case TypeBitfield:
		m = &Bitfield{Start: d.Uint(), Words: d.Uint32Array(MaxBitfieldWords)}
	case TypeRange:
		f := d.Uint()
		r := &Range{Drop: f&1 != 0, Start: d.Uint(), Length: 1}
		if f&2 == 0 {
			r.Length = d.Uint()
		}
		m = r
	case TypeExtension:
		m = &Extension{Name: d.String(), Message: d.Rest()}
	default:
		return nil, fmt.Errorf("%w %d", ErrUnknownType, typ)
	}
	if err := wrap(d, "type %d", typ); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeRequest(d *cenc.Decoder) *Request {
	f := d.Uint()
	m := &Request{ID: d.Uint(), Fork: d.Uint(), Manifest: f&16 != 0}
	if f&1 != 0 {
		m.Block = &RequestBlock{Index: d.Uint(), Nodes: d.Uint()}
	}
	if f&2 != 0 {
		m.Hash = &RequestBlock{Index: d.Uint(), Nodes: d.Uint()}
	}
	if f&4 != 0 {
		m.Seek = &RequestSeek{Bytes: d.Uint(), Padding: d.Uint()}
	}
	if f&8 != 0 {
		m.Upgrade = &RequestUpgrade{Start: d.Uint(), Length: d.Uint()}
	}
	if f&32 != 0 {
		m.Priority = d.Uint()
	}
	return m
}

func decodeData(d *cenc.Decoder) *Data {
	f := d.Uint()
	m := &Data{Request: d.Uint(), Fork: d.Uint()}
	if f&1 != 0 {
		m.Block = &DataBlock{Index: d.Uint(), Value: d.Buffer(), Nodes: decodeNodes(d)}
	}
	if f&2 != 0 {
		m.Hash = &DataHash{Index: d.Uint(), Nodes: decodeNodes(d)}
	}
	if f&4 != 0 {
		m.Seek = &DataSeek{Bytes: d.Uint(), Nodes: decodeNodes(d)}
	}
	if f&8 != 0 {
		m.Upgrade = &DataUpgrade{Start: d.Uint(), Length: d.Uint(),
			Nodes: decodeNodes(d), AdditionalNodes: decodeNodes(d), Signature: d.Buffer()}
	}
	if f&16 != 0 {
		m.Manifest = d.Rest()
	}
	return m
}

func wrap(d *cenc.Decoder, format string, args ...any) error {
	if d.Err() == nil {
		return nil
	}
	return fmt.Errorf("%w: %s: %w", ErrMalformed, fmt.Sprintf(format, args...), d.Err())
}
