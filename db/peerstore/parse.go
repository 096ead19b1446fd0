package peerstore

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The fold's page parser: it reads the wire form of Page, Checkpoint,
// Chunk, Peer and SignedRecord straight into slices of the page, without
// the generated code's allocations (the fold of a large journal is mostly
// this). It is stricter than protobuf: a singular field twice, or a field
// with an unexpected wire type, is an error (the encoder never writes
// them); unknown fields are skipped. The fuzz test checks that whatever it
// accepts, the generated code decodes to the same state. The embedded
// protocol and metadata lists are decoded by the generated code, once per
// distinct list (interner).

// rawPage is a parsed page.
type rawPage struct {
	version    uint64
	time       int64 // Unix nanoseconds on the writer's Options.Clock
	checkpoint bool
	ckptPeers  uint64
	chunk      bool
	peers      [][]byte // Peer messages (one for a peer page)
}

// rawPeer is a Peer message's fields, as slices of the page.
type rawPeer struct {
	id       []byte
	books    uint32
	addrs    [][]byte
	ttls     []int64
	expSec   []int64
	expNanos []int32
	record   *rawRecord
	pubKey   []byte
	protos   []byte
	meta     []byte
	lastConn int64
}

type rawRecord struct {
	envelope []byte
	seq      uint64
}

var errWireType = errors.New("unexpected wire type")

// fields calls fn for each field of a message; fn consumes the value.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, b []byte) (int, error)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if num > protowire.MaxValidNumber {
			return fmt.Errorf("field number %d", num)
		}
		b = b[n:]
		m, err := fn(num, typ, b)
		if err != nil {
			return fmt.Errorf("field %d: %w", num, err)
		}
		if m < 0 {
			if m = protowire.ConsumeFieldValue(num, typ, b); m < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(m))
			}
		}
		b = b[m:]
	}
	return nil
}

// singular tracks the singular fields of a message already seen.
type singular uint64

func (s *singular) once(num protowire.Number) error {
	bit := singular(1) << (uint(num) & 63)
	if *s&bit != 0 {
		return fmt.Errorf("singular field twice")
	}
	*s |= bit
	return nil
}

func varint(typ protowire.Type, b []byte) (uint64, int, error) {
	if typ != protowire.VarintType {
		return 0, 0, errWireType
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, protowire.ParseError(n)
	}
	return v, n, nil
}

func bytesField(typ protowire.Type, b []byte) ([]byte, int, error) {
	if typ != protowire.BytesType {
		return nil, 0, errWireType
	}
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, 0, protowire.ParseError(n)
	}
	return v, n, nil
}

// parsePage parses a page's envelope and body.
func parsePage(data []byte) (rawPage, error) {
	var pg rawPage
	var seen singular
	bodies := 0
	err := fields(data, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case fPageVersion, fPageTime:
			if err := seen.once(num); err != nil {
				return 0, err
			}
			v, n, err := varint(typ, b)
			if num == fPageVersion {
				pg.version = v
			} else {
				pg.time = int64(v)
			}
			return n, err
		case fPagePeer, fPageCheckpoint, fPageChunk:
			if bodies++; bodies > 1 {
				return 0, fmt.Errorf("a second body")
			}
			body, n, err := bytesField(typ, b)
			if err != nil {
				return 0, err
			}
			switch num {
			case fPagePeer:
				pg.peers = [][]byte{body}
			case fPageCheckpoint:
				pg.checkpoint = true
				err = parseCheckpoint(body, &pg)
			default:
				pg.chunk = true
				err = parseChunk(body, &pg)
			}
			return n, err
		}
		return -1, nil
	})
	switch {
	case err != nil:
		return pg, err
	case pg.version != formatVersion:
		return pg, fmt.Errorf("format version %d, this peerstore reads %d", pg.version, formatVersion)
	case bodies == 0:
		return pg, fmt.Errorf("page without a body")
	}
	return pg, nil
}

func parseCheckpoint(b []byte, pg *rawPage) error {
	var seen singular
	return fields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num != fCheckpointPeers {
			return -1, nil
		}
		if err := seen.once(num); err != nil {
			return 0, err
		}
		v, n, err := varint(typ, b)
		pg.ckptPeers = v
		return n, err
	})
}

func parseChunk(b []byte, pg *rawPage) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		if num != fChunkPeers {
			return -1, nil
		}
		p, n, err := bytesField(typ, b)
		pg.peers = append(pg.peers, p)
		return n, err
	})
}

// parsePeer parses a Peer message.
func parsePeer(b []byte) (rawPeer, error) {
	var r rawPeer
	var seen singular
	err := fields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case fPeerID, fPeerPublicKey, fPeerProtocols, fPeerMetadata, fPeerRecord:
			if err := seen.once(num); err != nil {
				return 0, err
			}
			v, n, err := bytesField(typ, b)
			if err != nil {
				return 0, err
			}
			switch num {
			case fPeerID:
				r.id = v
			case fPeerPublicKey:
				r.pubKey = v
			case fPeerProtocols:
				r.protos = v
			case fPeerMetadata:
				r.meta = v
			default:
				r.record, err = parseRecord(v)
			}
			return n, err
		case fPeerBooks, fPeerLastConnected:
			if err := seen.once(num); err != nil {
				return 0, err
			}
			v, n, err := varint(typ, b)
			if num == fPeerBooks {
				r.books = uint32(v)
			} else {
				r.lastConn = int64(v)
			}
			return n, err
		case fPeerAddrs:
			v, n, err := bytesField(typ, b)
			r.addrs = append(r.addrs, v)
			return n, err
		case fPeerTTLs, fPeerExpSec, fPeerExpNanos:
			return repeatedVarint(typ, b, func(v uint64) {
				switch num {
				case fPeerTTLs:
					r.ttls = append(r.ttls, int64(v))
				case fPeerExpSec:
					r.expSec = append(r.expSec, int64(v))
				default:
					r.expNanos = append(r.expNanos, int32(v))
				}
			})
		}
		return -1, nil
	})
	return r, err
}

// repeatedVarint reads one element, or a packed run, of a repeated
// varint field.
func repeatedVarint(typ protowire.Type, b []byte, add func(uint64)) (int, error) {
	if typ == protowire.VarintType {
		v, n, err := varint(typ, b)
		if err == nil {
			add(v)
		}
		return n, err
	}
	packed, n, err := bytesField(typ, b)
	if err != nil {
		return 0, err
	}
	for len(packed) > 0 {
		v, m := protowire.ConsumeVarint(packed)
		if m < 0 {
			return 0, protowire.ParseError(m)
		}
		add(v)
		packed = packed[m:]
	}
	return n, nil
}

func parseRecord(b []byte) (*rawRecord, error) {
	r := &rawRecord{}
	var seen singular
	err := fields(b, func(num protowire.Number, typ protowire.Type, b []byte) (int, error) {
		switch num {
		case fRecordEnvelope:
			if err := seen.once(num); err != nil {
				return 0, err
			}
			v, n, err := bytesField(typ, b)
			r.envelope = v
			return n, err
		case fRecordSeq:
			if err := seen.once(num); err != nil {
				return 0, err
			}
			v, n, err := varint(typ, b)
			r.seq = v
			return n, err
		}
		return -1, nil
	})
	return r, err
}
