package peerstore

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
)

// peerRecordState is the latest signed peer record accepted for a peer.
type peerRecordState struct {
	Envelope *record.Envelope
	Seq      uint64
}

// ConsumePeerRecord stores the addresses of a signed peer record with ttl.
// A record with a lower sequence number than the stored one is refused
// (false, nil); an equal one refreshes the TTLs. A newer record evicts the
// addresses the previous record listed and this one omits, unless a
// connection holds them; unsigned addresses stay.
func (ab *addrBook) ConsumePeerRecord(env *record.Envelope, ttl time.Duration) (accepted bool, evs []any, err error) {
	r, err := env.Record()
	if err != nil {
		return false, nil, err
	}
	rec, ok := r.(*peer.PeerRecord)
	if !ok {
		return false, nil, fmt.Errorf("unable to process envelope: not a PeerRecord")
	}
	if !rec.PeerID.MatchesPublicKey(env.PublicKey) {
		return false, nil, fmt.Errorf("signing key does not match PeerID in PeerRecord")
	}
	ab.mu.Lock()
	defer ab.mu.Unlock()
	last, found := ab.records[rec.PeerID]
	if found && last.Seq > rec.Seq {
		return false, nil, nil
	}
	if !found && len(ab.records) >= ab.maxRecords {
		return false, nil, fmt.Errorf("%w: %d held", ErrTooManyRecords, len(ab.records))
	}
	op := ab.begin(rec.PeerID)
	if found {
		ab.evictUnlisted(&op, prevSignedAddrs(last), rec.Addrs)
	}
	ab.records[rec.PeerID] = &peerRecordState{Envelope: env, Seq: rec.Seq}
	op.state = true
	ab.add(&op, rec.Addrs, ttl)
	ab.finish(&op, &evs)
	return true, evs, nil
}

// evictUnlisted deletes the unconnected addresses in prev but not in next.
func (ab *addrBook) evictUnlisted(op *addrOp, prev, next []ma.Multiaddr) {
	if len(prev) == 0 {
		return
	}
	keep := make(map[string]struct{}, len(next))
	for _, a := range next {
		keep[string(a.Bytes())] = struct{}{}
	}
	for _, a := range prev {
		key := string(a.Bytes())
		if _, ok := keep[key]; ok {
			continue
		}
		if ea, ok := ab.addrs.get(op.p)[key]; ok && !ea.IsConnected() {
			ab.remove(op, ea)
		}
	}
}

// prevSignedAddrs returns the addresses of a stored record (nil if it
// cannot be read). Envelope.Record caches its result.
func prevSignedAddrs(s *peerRecordState) []ma.Multiaddr {
	if s == nil || s.Envelope == nil {
		return nil
	}
	r, err := s.Envelope.Record()
	if err != nil {
		return nil
	}
	if pr, ok := r.(*peer.PeerRecord); ok {
		return pr.Addrs
	}
	return nil
}

// GetPeerRecord returns p's signed record, or nil when there is none or
// every address of p has expired.
func (ab *addrBook) GetPeerRecord(p peer.ID) *record.Envelope {
	ab.mu.RLock()
	defer ab.mu.RUnlock()
	m := ab.addrs.get(p)
	if len(m) == 0 || len(validAddrs(ab.clock.Now(), m)) == 0 {
		return nil
	}
	if s := ab.records[p]; s != nil {
		return s.Envelope
	}
	return nil
}
