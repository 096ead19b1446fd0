package peerstore

import (
	"errors"
	"sync/atomic"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
)

// The peerstore's events, emitted on Options.EventBus (Peerstore.EventBus)
// after the change is made and visible, only when something really
// changed, and always outside the peerstore's locks. As everywhere on a
// libp2p bus, a subscriber that does not drain its channel slows the
// writers down; subscribe with a buffer (eventbus.BufSize). Events of
// concurrent writers may arrive in either order. Replaying the journal on
// open emits nothing.

// EvtPeerAdded: a peer no book held anything for now has data in one (an
// address, a key, a protocol or metadata).
type EvtPeerAdded struct {
	Peer peer.ID
}

// EvtAddrsChanged: the set of a peer's valid addresses changed: one was
// added, removed, or revived after it had expired, or expired addresses
// were collected (every Options.GCInterval; Previous then lists them). A
// TTL or expiry change alone is not an event.
type EvtAddrsChanged struct {
	Peer     peer.ID
	Previous []ma.Multiaddr
	Current  []ma.Multiaddr
}

// EvtProtocolsChanged: the set of a peer's protocols changed.
type EvtProtocolsChanged struct {
	Peer     peer.ID
	Previous []protocol.ID
	Current  []protocol.ID
}

// EvtPubKeyLearned: a peer's public key was stored (or, never in practice,
// replaced by another key for the same ID). Previous is nil when no key
// was stored. Keys derived from an identity-hash peer ID count: PubKey
// stores them, as pstoremem does.
type EvtPubKeyLearned struct {
	Peer     peer.ID
	Previous ic.PubKey
	Current  ic.PubKey
}

// EvtMetadataChanged: one metadata entry was set to a different value or
// removed (RemovePeer, DeletePeer, SetPeer).
type EvtMetadataChanged struct {
	Peer     peer.ID
	Key      string
	Existed  bool // the entry existed before; Previous is its value
	Previous any
	Removed  bool // the entry is gone; Current is nil
	Current  any
}

// emitters sends the events to the current bus: Options.EventBus, until
// AttachHost moves them to the host's.
type emitters struct {
	cur atomic.Pointer[emitterSet]
}

// emitterSet holds one emitter per event type, on one bus.
type emitterSet struct {
	bus                             event.Bus
	added, addrs, protos, key, meta event.Emitter
}

func newEmitters(bus event.Bus) (*emitters, error) {
	s, err := newEmitterSet(bus)
	if err != nil {
		return nil, err
	}
	e := &emitters{}
	e.cur.Store(s)
	return e, nil
}

// move sends the events to bus from now on.
func (e *emitters) move(bus event.Bus) error {
	s, err := newEmitterSet(bus)
	if err != nil {
		return err
	}
	if old := e.cur.Swap(s); old != nil {
		old.close() // an event emitted on it meanwhile is dropped
	}
	return nil
}

func (e *emitters) bus() event.Bus { return e.cur.Load().bus }

func (e *emitters) close() { e.cur.Load().close() }

func newEmitterSet(bus event.Bus) (*emitterSet, error) {
	e := emitterSet{bus: bus}
	var errs []error
	mk := func(dst *event.Emitter, typ any) {
		em, err := bus.Emitter(typ)
		errs = append(errs, err)
		*dst = em
	}
	mk(&e.added, new(EvtPeerAdded))
	mk(&e.addrs, new(EvtAddrsChanged))
	mk(&e.protos, new(EvtProtocolsChanged))
	mk(&e.key, new(EvtPubKeyLearned))
	mk(&e.meta, new(EvtMetadataChanged))
	if err := errors.Join(errs...); err != nil {
		e.close()
		return nil, err
	}
	return &e, nil
}

func (e *emitterSet) close() {
	for _, em := range []event.Emitter{e.added, e.addrs, e.protos, e.key, e.meta} {
		if em != nil {
			_ = em.Close()
		}
	}
}

// emit sends the events a call collected. Call it with no lock held.
func (es *emitters) emit(evs []any) {
	if len(evs) == 0 {
		return
	}
	e := es.cur.Load()
	for _, ev := range evs {
		var em event.Emitter
		switch ev.(type) {
		case EvtPeerAdded:
			em = e.added
		case EvtAddrsChanged:
			em = e.addrs
		case EvtProtocolsChanged:
			em = e.protos
		case EvtPubKeyLearned:
			em = e.key
		case EvtMetadataChanged:
			em = e.meta
		}
		_ = em.Emit(ev) // fails only after Close: the event is dropped
	}
}
