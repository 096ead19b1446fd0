package peerstore

import (
	"context"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
)

// The go-libp2p interface: each call changes the in-memory books, marks
// the peer for the next journal flush, and emits the events it caused.
// Reads never touch Pebble.

// AddAddr is AddAddrs with one address.
func (ps *Peerstore) AddAddr(p peer.ID, addr ma.Multiaddr, ttl time.Duration) {
	ps.AddAddrs(p, []ma.Multiaddr{addr}, ttl)
}

// AddAddrs stores addresses for p with ttl. It never shortens the TTL or
// expiry an address has; ttl <= 0 does nothing.
func (ps *Peerstore) AddAddrs(p peer.ID, addrs []ma.Multiaddr, ttl time.Duration) {
	ps.ev.emit(ps.pr.addrs.AddAddrs(p, addrs, ttl))
}

// SetAddr is SetAddrs with one address.
func (ps *Peerstore) SetAddr(p peer.ID, addr ma.Multiaddr, ttl time.Duration) {
	ps.SetAddrs(p, []ma.Multiaddr{addr}, ttl)
}

// SetAddrs stores addresses for p with ttl, replacing their TTL and
// expiry; ttl <= 0 deletes them.
func (ps *Peerstore) SetAddrs(p peer.ID, addrs []ma.Multiaddr, ttl time.Duration) {
	ps.ev.emit(ps.pr.addrs.SetAddrs(p, addrs, ttl))
}

// UpdateAddrs gives p's addresses stored with oldTTL the TTL newTTL (and
// an expiry newTTL from now); newTTL 0 deletes them.
func (ps *Peerstore) UpdateAddrs(p peer.ID, oldTTL, newTTL time.Duration) {
	ps.ev.emit(ps.pr.addrs.UpdateAddrs(p, oldTTL, newTTL))
}

// Addrs returns p's addresses that have not expired.
func (ps *Peerstore) Addrs(p peer.ID) []ma.Multiaddr { return ps.pr.addrs.Addrs(p) }

// AddrStream returns a channel that gets p's stored addresses, then each
// new one, until ctx ends (then it is closed). Writers never wait for it.
func (ps *Peerstore) AddrStream(ctx context.Context, p peer.ID) <-chan ma.Multiaddr {
	return ps.pr.addrs.AddrStream(ctx, p)
}

// ClearAddrs deletes p's addresses and signed record.
func (ps *Peerstore) ClearAddrs(p peer.ID) { ps.ev.emit(ps.pr.addrs.ClearAddrs(p)) }

// PeersWithAddrs returns the peers with stored addresses.
func (ps *Peerstore) PeersWithAddrs() peer.IDSlice { return ps.pr.addrs.PeersWithAddrs() }

// ConsumePeerRecord stores a signed peer record's addresses with ttl (see
// go-libp2p's CertifiedAddrBook): older sequence numbers are refused, and a
// newer record evicts the signed addresses it no longer lists.
func (ps *Peerstore) ConsumePeerRecord(env *record.Envelope, ttl time.Duration) (bool, error) {
	ok, evs, err := ps.pr.addrs.ConsumePeerRecord(env, ttl)
	ps.ev.emit(evs)
	return ok, err
}

// GetPeerRecord returns p's signed record, or nil (none, or every address
// of p expired).
func (ps *Peerstore) GetPeerRecord(p peer.ID) *record.Envelope { return ps.pr.addrs.GetPeerRecord(p) }

// PubKey returns p's public key, extracting it from an identity-hash ID.
func (ps *Peerstore) PubKey(p peer.ID) ic.PubKey {
	pk, evs := ps.pr.keys.PubKey(p)
	ps.ev.emit(evs)
	return pk
}

// AddPubKey stores p's public key; it must match p.
func (ps *Peerstore) AddPubKey(p peer.ID, pk ic.PubKey) error {
	evs, err := ps.pr.keys.AddPubKey(p, pk)
	ps.ev.emit(evs)
	return err
}

// PrivKey returns p's private key, if this process was given it.
func (ps *Peerstore) PrivKey(p peer.ID) ic.PrivKey { return ps.pr.keys.PrivKey(p) }

// AddPrivKey keeps p's private key in memory; it is never journaled.
func (ps *Peerstore) AddPrivKey(p peer.ID, sk ic.PrivKey) error {
	evs, err := ps.pr.keys.AddPrivKey(p, sk)
	ps.ev.emit(evs)
	return err
}

// PeersWithKeys returns the peers with a public or private key.
func (ps *Peerstore) PeersWithKeys() peer.IDSlice { return ps.pr.keys.PeersWithKeys() }

// GetProtocols returns p's protocols.
func (ps *Peerstore) GetProtocols(p peer.ID) ([]protocol.ID, error) {
	return ps.pr.protos.GetProtocols(p)
}

// AddProtocols adds protocols to p's (ErrTooManyProtocols past the limit).
func (ps *Peerstore) AddProtocols(p peer.ID, protos ...protocol.ID) error {
	evs, err := ps.pr.protos.AddProtocols(p, protos...)
	ps.ev.emit(evs)
	return err
}

// SetProtocols replaces p's protocols (ErrTooManyProtocols past the limit).
func (ps *Peerstore) SetProtocols(p peer.ID, protos ...protocol.ID) error {
	evs, err := ps.pr.protos.SetProtocols(p, protos...)
	ps.ev.emit(evs)
	return err
}

// RemoveProtocols removes protocols from p's.
func (ps *Peerstore) RemoveProtocols(p peer.ID, protos ...protocol.ID) error {
	ps.ev.emit(ps.pr.protos.RemoveProtocols(p, protos...))
	return nil
}

// SupportsProtocols returns those of protos that p supports, in order.
func (ps *Peerstore) SupportsProtocols(p peer.ID, protos ...protocol.ID) ([]protocol.ID, error) {
	return ps.pr.protos.SupportsProtocols(p, protos...)
}

// FirstSupportedProtocol returns the first of protos p supports, or "".
func (ps *Peerstore) FirstSupportedProtocol(p peer.ID, protos ...protocol.ID) (protocol.ID, error) {
	return ps.pr.protos.FirstSupportedProtocol(p, protos...)
}

// Get returns p's metadata value under key (peerstore.ErrNotFound if none).
func (ps *Peerstore) Get(p peer.ID, key string) (any, error) { return ps.pr.meta.Get(p, key) }

// Put stores a metadata value. Its Go type is kept across restarts; types
// the journal cannot keep give ErrUnsupportedValue (see values.go).
func (ps *Peerstore) Put(p peer.ID, key string, val any) error {
	evs, err := ps.pr.meta.Put(p, key, val)
	ps.ev.emit(evs)
	return err
}
