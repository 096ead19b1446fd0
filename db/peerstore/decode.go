package peerstore

import (
	"fmt"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
)

// formatVersion is the journal page format this code writes and reads.
const formatVersion = 1

// peerState is a decoded Peer message, checked whole before anything is
// applied.
type peerState struct {
	id     peer.ID
	books  books
	addrs  []*expiringAddr
	record *peerRecordState
	pubKey ic.PubKey
	protos map[protocol.ID]struct{}
	meta   map[string]any
	// lastConnected is when the peer last held a connection (0: never).
	lastConnected int64
}

// interner shares equal protocol sets and metadata maps between peers
// while folding (most peers speak the same protocols), keyed by their
// journal bytes, so a set is decoded once. Books never change a stored set
// or map in place, so sharing them is safe.
type interner struct {
	protos map[string]map[protocol.ID]struct{}
	meta   map[string]map[string]any
}

func newInterner() *interner {
	return &interner{protos: make(map[string]map[protocol.ID]struct{}), meta: make(map[string]map[string]any)}
}

func (in *interner) protoSet(data []byte) (map[protocol.ID]struct{}, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if m, ok := in.protos[string(data)]; ok {
		return m, nil
	}
	list, err := parseStringList(data)
	if err != nil {
		return nil, fmt.Errorf("protocols: %w", err)
	}
	m := make(map[protocol.ID]struct{}, len(list))
	for _, p := range list {
		m[protocol.ID(p)] = struct{}{}
	}
	in.protos[string(data)] = m
	return m, nil
}

func (in *interner) metaMap(data []byte) (map[string]any, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if m, ok := in.meta[string(data)]; ok {
		return m, nil
	}
	m, err := parseMeta(data)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	in.meta[string(data)] = m
	return m, nil
}

// decodePeer checks and decodes one peer's journal form.
func decodePeer(r rawPeer, in *interner) (*peerState, error) {
	st := &peerState{id: peer.ID(r.id), books: books(r.books), lastConnected: r.lastConn}
	if st.books&^journaled != 0 {
		return nil, fmt.Errorf("peer %s: unknown books %#x", st.id, r.books)
	}
	n := len(r.addrs)
	if len(r.ttls) != n || len(r.expSec) != n || len(r.expNanos) != n {
		return nil, fmt.Errorf("peer %s: address lists of different lengths", st.id)
	}
	if n > 0 {
		st.addrs = make([]*expiringAddr, n)
		backing := make([]expiringAddr, n)
		for i, raw := range r.addrs {
			addr, err := ma.NewMultiaddrBytes(raw)
			if err != nil {
				return nil, fmt.Errorf("peer %s: address: %w", st.id, err)
			}
			nanos := r.expNanos[i]
			if nanos < 0 || nanos >= 1e9 {
				return nil, fmt.Errorf("peer %s: expiry nanoseconds %d", st.id, nanos)
			}
			for _, prev := range st.addrs[:i] {
				if prev.Addr.Equal(addr) {
					return nil, fmt.Errorf("peer %s: address %s twice", st.id, addr)
				}
			}
			backing[i] = expiringAddr{Addr: addr, TTL: time.Duration(r.ttls[i]),
				Expiry: time.Unix(r.expSec[i], int64(nanos)), Peer: st.id, heapIndex: -1}
			st.addrs[i] = &backing[i]
		}
	}
	if r.record != nil {
		env, err := record.UnmarshalEnvelope(r.record.envelope) // verified when it was consumed
		if err != nil {
			return nil, fmt.Errorf("peer %s: signed record: %w", st.id, err)
		}
		st.record = &peerRecordState{Envelope: env, Seq: r.record.seq}
	}
	if len(r.pubKey) > 0 {
		pk, err := ic.UnmarshalPublicKey(r.pubKey)
		if err != nil {
			return nil, fmt.Errorf("peer %s: public key: %w", st.id, err)
		}
		st.pubKey = pk
	}
	var err error
	if st.protos, err = in.protoSet(r.protos); err != nil {
		return nil, fmt.Errorf("peer %s: %w", st.id, err)
	}
	if st.meta, err = in.metaMap(r.meta); err != nil {
		return nil, fmt.Errorf("peer %s: %w", st.id, err)
	}
	return st, nil
}
