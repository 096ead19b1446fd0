package peerstore

import (
	"maps"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
)

// metaBook is the metadata projection. Values keep their Go type; only the
// types the journal can restore (values.go) are accepted. A stored map is
// never changed in place (Put stores a new one), so peers may share one
// (the fold does) and a snapshot may read it unlocked.
type metaBook struct {
	mu      sync.RWMutex
	ds      map[peer.ID]map[string]any
	t       *tracker
	maxSize int
}

func newMetaBook(maxSize int, t *tracker) *metaBook {
	return &metaBook{ds: make(map[peer.ID]map[string]any), t: t, maxSize: maxSize}
}

// Put stores val under key for p. It refuses a value of a type the journal
// cannot keep (ErrUnsupportedValue) or too large (ErrValueTooLarge).
func (mb *metaBook) Put(p peer.ID, key string, val any) ([]any, error) {
	if err := checkValue(val, mb.maxSize); err != nil {
		return nil, err
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	m := mb.ds[p]
	old, existed := m[key]
	if existed && sameValue(old, val) {
		return nil, nil // an equal value: the stored one stays
	}
	next := make(map[string]any, len(m)+1)
	maps.Copy(next, m)
	next[key] = val
	mb.ds[p] = next
	mb.t.mark(p, bookMeta)
	var evs []any
	if len(m) == 0 && mb.t.setPresent(p, bookMeta, true) && mb.t.wants(evAdded) {
		evs = append(evs, EvtPeerAdded{Peer: p})
	}
	if !mb.t.wants(evMeta) {
		return evs, nil
	}
	return append(evs, EvtMetadataChanged{Peer: p, Key: key, Existed: existed, Previous: old, Current: val}), nil
}

// Get returns the value stored under key for p, or pstore.ErrNotFound.
func (mb *metaBook) Get(p peer.ID, key string) (any, error) {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	m, ok := mb.ds[p]
	if !ok {
		return nil, pstore.ErrNotFound
	}
	val, ok := m[key]
	if !ok {
		return nil, pstore.ErrNotFound
	}
	return val, nil
}

// remove deletes p's metadata and returns the map it held.
func (mb *metaBook) remove(p peer.ID) (m map[string]any, evs []any) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	m, ok := mb.ds[p]
	if !ok {
		return nil, nil
	}
	delete(mb.ds, p)
	mb.t.mark(p, bookMeta)
	mb.t.setPresent(p, bookMeta, false)
	if !mb.t.wants(evMeta) {
		return m, nil
	}
	for k, v := range m {
		evs = append(evs, EvtMetadataChanged{Peer: p, Key: k, Existed: true, Previous: v, Removed: true})
	}
	return m, evs
}

// replace makes p's metadata exactly m (nil or empty: none).
func (mb *metaBook) replace(p peer.ID, m map[string]any) (evs []any, err error) {
	for _, v := range m {
		if err := checkValue(v, mb.maxSize); err != nil {
			return nil, err
		}
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	old := mb.ds[p]
	next := make(map[string]any, len(m))
	for k, v := range m {
		next[k] = v
		if ov, ok := old[k]; !ok || !sameValue(ov, v) {
			evs = append(evs, EvtMetadataChanged{Peer: p, Key: k, Existed: ok, Previous: ov, Current: v})
		}
	}
	for k, ov := range old {
		if _, ok := next[k]; !ok {
			evs = append(evs, EvtMetadataChanged{Peer: p, Key: k, Existed: true, Previous: ov, Removed: true})
		}
	}
	if len(evs) == 0 {
		return nil, nil
	}
	if len(next) == 0 {
		delete(mb.ds, p)
	} else {
		mb.ds[p] = next
	}
	mb.t.mark(p, bookMeta)
	if (len(old) > 0) != (len(next) > 0) && mb.t.setPresent(p, bookMeta, len(next) > 0) && mb.t.wants(evAdded) {
		evs = append([]any{EvtPeerAdded{Peer: p}}, evs...)
	}
	if !mb.t.wants(evMeta) {
		evs = slices.DeleteFunc(evs, func(e any) bool { _, ok := e.(EvtMetadataChanged); return ok })
	}
	return evs, nil
}
