package peerstore

import (
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// protoBook is the protocol book projection, laid out as pstoremem's: 256
// segments by the last byte of the peer ID, each with its own lock. A
// stored set is never changed in place (a change stores a new one), so
// peers may share one (the fold does) and a snapshot may read it unlocked.
type protoBook struct {
	segments [256]*protoSegment
	max      int
	t        *tracker
}

type protoSegment struct {
	sync.RWMutex
	protocols map[peer.ID]map[protocol.ID]struct{}
}

func newProtoBook(max int, t *tracker) *protoBook {
	pb := &protoBook{max: max, t: t}
	for i := range pb.segments {
		pb.segments[i] = &protoSegment{protocols: make(map[peer.ID]map[protocol.ID]struct{})}
	}
	return pb
}

func (pb *protoBook) segment(p peer.ID) *protoSegment {
	if len(p) == 0 {
		return pb.segments[0]
	}
	return pb.segments[p[len(p)-1]]
}

// SetProtocols replaces p's protocols.
func (pb *protoBook) SetProtocols(p peer.ID, protos ...protocol.ID) ([]any, error) {
	if len(protos) > pb.max {
		return nil, ErrTooManyProtocols
	}
	next := make(map[protocol.ID]struct{}, len(protos))
	for _, proto := range protos {
		next[proto] = struct{}{}
	}
	s := pb.segment(p)
	s.Lock()
	defer s.Unlock()
	old := s.protocols[p]
	s.protocols[p] = next
	if sameProtos(old, next) {
		return nil, nil
	}
	return pb.changed(p, old, next), nil
}

// AddProtocols adds protocols to p's. Like pstoremem it counts the new
// ones with duplicates against the limit.
func (pb *protoBook) AddProtocols(p peer.ID, protos ...protocol.ID) ([]any, error) {
	s := pb.segment(p)
	s.Lock()
	defer s.Unlock()
	old := s.protocols[p]
	if len(old)+len(protos) > pb.max {
		return nil, ErrTooManyProtocols
	}
	var next map[protocol.ID]struct{}
	for _, proto := range protos {
		if _, ok := old[proto]; ok {
			continue
		}
		if next == nil {
			next = copyProtos(old)
		}
		next[proto] = struct{}{}
	}
	if next == nil {
		return nil, nil
	}
	s.protocols[p] = next
	return pb.changed(p, old, next), nil
}

// RemoveProtocols removes protocols from p's.
func (pb *protoBook) RemoveProtocols(p peer.ID, protos ...protocol.ID) []any {
	s := pb.segment(p)
	s.Lock()
	defer s.Unlock()
	old, ok := s.protocols[p]
	if !ok {
		return nil
	}
	var next map[protocol.ID]struct{}
	for _, proto := range protos {
		if _, ok := old[proto]; !ok {
			continue
		}
		if next == nil {
			next = copyProtos(old)
		}
		delete(next, proto)
	}
	if next == nil {
		return nil
	}
	if len(next) == 0 {
		delete(s.protocols, p)
	} else {
		s.protocols[p] = next
	}
	return pb.changed(p, old, next)
}

// remove deletes p's protocols and returns the set it held.
func (pb *protoBook) remove(p peer.ID) (map[protocol.ID]struct{}, []any) {
	s := pb.segment(p)
	s.Lock()
	defer s.Unlock()
	old, ok := s.protocols[p]
	if !ok {
		return nil, nil
	}
	delete(s.protocols, p)
	if len(old) == 0 {
		return nil, nil
	}
	return old, pb.changed(p, old, nil)
}

// changed reports a change of p's set from old to cur. Call with the
// segment locked.
func (pb *protoBook) changed(p peer.ID, old, cur map[protocol.ID]struct{}) (evs []any) {
	pb.t.mark(p, bookProtos)
	if (len(old) > 0) != (len(cur) > 0) && pb.t.setPresent(p, bookProtos, len(cur) > 0) && pb.t.wants(evAdded) {
		evs = append(evs, EvtPeerAdded{Peer: p})
	}
	if !pb.t.wants(evProtos) {
		return evs
	}
	return append(evs, EvtProtocolsChanged{Peer: p, Previous: protoList(old), Current: protoList(cur)})
}

// GetProtocols returns p's protocols.
func (pb *protoBook) GetProtocols(p peer.ID) ([]protocol.ID, error) {
	s := pb.segment(p)
	s.RLock()
	defer s.RUnlock()
	out := make([]protocol.ID, 0, len(s.protocols[p]))
	for k := range s.protocols[p] {
		out = append(out, k)
	}
	return out, nil
}

// SupportsProtocols returns those of protos p supports, in their order.
func (pb *protoBook) SupportsProtocols(p peer.ID, protos ...protocol.ID) ([]protocol.ID, error) {
	s := pb.segment(p)
	s.RLock()
	defer s.RUnlock()
	out := make([]protocol.ID, 0, len(protos))
	for _, proto := range protos {
		if _, ok := s.protocols[p][proto]; ok {
			out = append(out, proto)
		}
	}
	return out, nil
}

// FirstSupportedProtocol returns the first of protos p supports, or "".
func (pb *protoBook) FirstSupportedProtocol(p peer.ID, protos ...protocol.ID) (protocol.ID, error) {
	s := pb.segment(p)
	s.RLock()
	defer s.RUnlock()
	for _, proto := range protos {
		if _, ok := s.protocols[p][proto]; ok {
			return proto, nil
		}
	}
	return "", nil
}

func copyProtos(m map[protocol.ID]struct{}) map[protocol.ID]struct{} {
	out := make(map[protocol.ID]struct{}, len(m)+1)
	for k := range m {
		out[k] = struct{}{}
	}
	return out
}

func sameProtos(a, b map[protocol.ID]struct{}) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// protoList returns the set's protocols, sorted.
func protoList(m map[protocol.ID]struct{}) []protocol.ID {
	out := make([]protocol.ID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
