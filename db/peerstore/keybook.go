package peerstore

import (
	"errors"
	"fmt"
	"sync"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// keyBook is the key book projection. Public keys are journaled; private
// keys live in memory only and are never written to a page.
type keyBook struct {
	mu  sync.RWMutex
	pks map[peer.ID]ic.PubKey
	sks map[peer.ID]ic.PrivKey
	t   *tracker
}

func newKeyBook(t *tracker) *keyBook {
	return &keyBook{pks: make(map[peer.ID]ic.PubKey), sks: make(map[peer.ID]ic.PrivKey), t: t}
}

// PeersWithKeys returns the peers with a public or a private key.
func (kb *keyBook) PeersWithKeys() peer.IDSlice {
	kb.mu.RLock()
	defer kb.mu.RUnlock()
	out := make(peer.IDSlice, 0, len(kb.pks)+len(kb.sks))
	for p := range kb.pks {
		out = append(out, p)
	}
	for p := range kb.sks {
		if _, ok := kb.pks[p]; !ok {
			out = append(out, p)
		}
	}
	return out
}

// PubKey returns p's public key. A key the ID embeds (identity hash) is
// extracted and stored, as pstoremem does; storing it is a change.
func (kb *keyBook) PubKey(p peer.ID) (ic.PubKey, []any) {
	kb.mu.RLock()
	pk := kb.pks[p]
	kb.mu.RUnlock()
	if pk != nil {
		return pk, nil
	}
	pk, err := p.ExtractPublicKey()
	if err != nil {
		return nil, nil
	}
	return pk, kb.store(p, pk)
}

// AddPubKey stores p's public key after checking that it is p's.
func (kb *keyBook) AddPubKey(p peer.ID, pk ic.PubKey) ([]any, error) {
	if pk == nil || !p.MatchesPublicKey(pk) {
		return nil, fmt.Errorf("%w: ID does not match PublicKey", ErrKeyMismatch)
	}
	return kb.store(p, pk), nil
}

func (kb *keyBook) store(p peer.ID, pk ic.PubKey) (evs []any) {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	old, had := kb.pks[p]
	kb.pks[p] = pk
	if had && old.Equals(pk) {
		return nil // the same key again: no change (the new object is kept, as pstoremem)
	}
	kb.t.mark(p, bookKey)
	if !had && kb.t.setPresent(p, bookKey, true) && kb.t.wants(evAdded) {
		evs = append(evs, EvtPeerAdded{Peer: p})
	}
	if !kb.t.wants(evKey) {
		return evs
	}
	return append(evs, EvtPubKeyLearned{Peer: p, Previous: old, Current: pk})
}

// PrivKey returns p's private key, if this process was given it.
func (kb *keyBook) PrivKey(p peer.ID) ic.PrivKey {
	kb.mu.RLock()
	defer kb.mu.RUnlock()
	return kb.sks[p]
}

// AddPrivKey keeps p's private key in memory (never in the journal).
func (kb *keyBook) AddPrivKey(p peer.ID, sk ic.PrivKey) ([]any, error) {
	if sk == nil {
		return nil, errors.New("sk is nil (PrivKey)")
	}
	if !p.MatchesPrivateKey(sk) {
		return nil, fmt.Errorf("%w: ID does not match PrivateKey", ErrKeyMismatch)
	}
	kb.mu.Lock()
	defer kb.mu.Unlock()
	_, had := kb.sks[p]
	kb.sks[p] = sk
	if !had && kb.t.setPresent(p, bookPrivKey, true) && kb.t.wants(evAdded) {
		return []any{EvtPeerAdded{Peer: p}}, nil
	}
	return nil, nil
}

// remove deletes p's keys (public and private) and returns the public
// key it held.
func (kb *keyBook) remove(p peer.ID) ic.PubKey {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	pk, ok := kb.pks[p]
	if ok {
		delete(kb.pks, p)
		kb.t.mark(p, bookKey)
		kb.t.setPresent(p, bookKey, false)
	}
	if _, ok := kb.sks[p]; ok {
		delete(kb.sks, p)
		kb.t.setPresent(p, bookPrivKey, false)
	}
	return pk
}
