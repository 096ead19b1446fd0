package peerstore

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
)

// The high-level operations of folio's seed design, on top of the libp2p
// interface: set a peer's data (replace, as identify does), merge it (as
// DHT and discovery do), get, delete and list peers with their data. Each
// is one step for the journal: a flush never sees it half done.

// Books selects some of a peer's books. Zero means all of them.
type Books uint8

const (
	BookAddrs     Books = 1 << iota // addresses with their TTLs
	BookRecord                      // the signed peer record
	BookPubKey                      // the public key (DeletePeer: the private key too)
	BookProtocols                   // the protocol set
	BookMetadata                    // the metadata map
	AllBooks      = BookAddrs | BookRecord | BookPubKey | BookProtocols | BookMetadata
)

func (b Books) or(all Books) Books {
	if b == 0 {
		return all
	}
	return b
}

// AddrEntry is one address with its TTL and expiry.
type AddrEntry struct {
	Addr    ma.Multiaddr
	TTL     time.Duration // writes: zero means peerstore.AddressTTL
	Expires time.Time     // reads only
}

// PeerData is a peer's data in the books.
type PeerData struct {
	ID        peer.ID
	Addrs     []AddrEntry      // valid addresses (reads), addresses to store (writes)
	Record    *record.Envelope // signed peer record; writes consume it with RecordTTL
	RecordTTL time.Duration    // writes: zero means peerstore.RecentlyConnectedAddrTTL
	PubKey    ic.PubKey        // writes: nil leaves the stored key alone
	Protocols []protocol.ID    // sorted on reads
	Metadata  map[string]any
}

// ErrStaleRecord: SetPeer or MergePeer was given a signed record older
// than the stored one; nothing was changed.
var ErrStaleRecord = errors.New("peerstore: signed peer record older than the stored one")

// SetPeer replaces d.ID's data in the books selected (zero: all) with d's,
// as identify does: the addresses become exactly d.Addrs (each stored
// with its TTL, overwriting the old one), the protocols exactly
// d.Protocols, the metadata exactly d.Metadata. A non-nil Record is
// consumed (its addresses join d.Addrs) and a non-nil PubKey stored. It
// checks everything before it changes anything.
func (ps *Peerstore) SetPeer(d PeerData, which Books) error {
	return ps.write(d, which.or(AllBooks), true)
}

// MergePeer adds d's data to d.ID's in the books selected (zero: all), as
// DHT and discovery do: addresses are added (AddAddrs: a TTL is never
// shortened), protocols added, metadata entries put one by one.
func (ps *Peerstore) MergePeer(d PeerData, which Books) error {
	return ps.write(d, which.or(AllBooks), false)
}

func (ps *Peerstore) write(d PeerData, which Books, replace bool) error {
	if err := ps.check(d, which, replace); err != nil {
		return err
	}
	ps.gate.RLock()
	evs, err := ps.apply(d, which, replace)
	ps.gate.RUnlock()
	ps.ev.emit(evs)
	return err
}

// check refuses, before anything changes, what apply would refuse.
func (ps *Peerstore) check(d PeerData, which Books, replace bool) error {
	if which&BookPubKey != 0 && d.PubKey != nil && !d.ID.MatchesPublicKey(d.PubKey) {
		return fmt.Errorf("%w: %s", ErrKeyMismatch, d.ID)
	}
	if which&BookMetadata != 0 {
		for k, v := range d.Metadata {
			if err := checkValue(v, ps.o.MaxValueSize); err != nil {
				return fmt.Errorf("metadata %q: %w", k, err)
			}
		}
	}
	if which&BookProtocols != 0 && replace && len(d.Protocols) > ps.o.MaxProtocols {
		return ErrTooManyProtocols
	}
	if which&BookRecord != 0 && d.Record != nil {
		if rec, err := d.Record.Record(); err != nil {
			return err
		} else if pr, ok := rec.(*peer.PeerRecord); !ok || pr.PeerID != d.ID {
			return fmt.Errorf("peerstore: the signed record is not a peer record of %s", d.ID)
		}
	}
	return nil
}

func (ps *Peerstore) apply(d PeerData, which Books, replace bool) (evs []any, err error) {
	if which&BookRecord != 0 && d.Record != nil {
		ok, e, err := ps.pr.addrs.ConsumePeerRecord(d.Record, cmpOr(d.RecordTTL, pstore.RecentlyConnectedAddrTTL))
		evs = append(evs, e...)
		if err != nil {
			return evs, err
		}
		if !ok {
			return evs, ErrStaleRecord
		}
	}
	if which&BookAddrs != 0 {
		evs = append(evs, ps.pr.addrs.writeEntries(d.ID, d.Addrs, replace, d.Record)...)
	}
	if which&BookPubKey != 0 && d.PubKey != nil {
		e, _ := ps.pr.keys.AddPubKey(d.ID, d.PubKey) // checked
		evs = append(evs, e...)
	}
	if which&BookProtocols != 0 {
		var e []any
		if replace {
			e, err = ps.pr.protos.SetProtocols(d.ID, d.Protocols...)
		} else if len(d.Protocols) > 0 {
			e, err = ps.pr.protos.AddProtocols(d.ID, d.Protocols...)
		}
		evs = append(evs, e...)
		if err != nil {
			return evs, err
		}
	}
	if which&BookMetadata != 0 {
		e, err := ps.pr.meta.write(d.ID, d.Metadata, replace)
		evs = append(evs, e...)
		if err != nil {
			return evs, err
		}
	}
	return evs, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// writeEntries stores entries for p, each with its TTL; replace first
// deletes the addresses not listed (nor in the signed record env).
func (ab *addrBook) writeEntries(p peer.ID, entries []AddrEntry, replace bool, env *record.Envelope) (evs []any) {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	op := ab.begin(p)
	if replace {
		keep := make(map[string]struct{}, len(entries))
		for _, e := range entries {
			if a, ok := splitAddr(p, e.Addr); ok {
				keep[string(a.Bytes())] = struct{}{}
			}
		}
		if s := ab.records[p]; s != nil && s.Envelope == env {
			for _, a := range prevSignedAddrs(s) {
				keep[string(a.Bytes())] = struct{}{}
			}
		}
		for key, a := range ab.addrs.get(p) {
			if _, ok := keep[key]; !ok {
				ab.remove(&op, a)
			}
		}
	}
	for _, e := range entries {
		ttl := cmpOr(e.TTL, pstore.AddressTTL)
		if replace {
			ab.set(&op, []ma.Multiaddr{e.Addr}, ttl)
		} else {
			ab.add(&op, []ma.Multiaddr{e.Addr}, ttl)
		}
	}
	ab.finish(&op, &evs)
	return evs
}

// write puts m's entries (merge) or makes p's metadata exactly m.
func (mb *metaBook) write(p peer.ID, m map[string]any, replace bool) ([]any, error) {
	if replace {
		return mb.replace(p, m)
	}
	var evs []any
	for _, k := range slices.Sorted(maps.Keys(m)) {
		e, err := mb.Put(p, k, m[k])
		evs = append(evs, e...)
		if err != nil {
			return evs, err
		}
	}
	return evs, nil
}

// GetPeer returns p's data in the books selected (zero: all), and whether
// any of them holds something. It has no side effect: a key an
// identity-hash ID embeds is returned, not stored.
func (ps *Peerstore) GetPeer(p peer.ID, which Books) (PeerData, bool) {
	which = which.or(AllBooks)
	d := PeerData{ID: p}
	if which&(BookAddrs|BookRecord) != 0 {
		d.Addrs, d.Record = ps.pr.addrs.entries(p)
		if which&BookAddrs == 0 {
			d.Addrs = nil
		}
		if which&BookRecord == 0 {
			d.Record = nil
		}
	}
	found := len(d.Addrs) > 0 || d.Record != nil
	if which&BookPubKey != 0 {
		ps.pr.keys.mu.RLock()
		d.PubKey = ps.pr.keys.pks[p]
		ps.pr.keys.mu.RUnlock()
		found = found || d.PubKey != nil
		if d.PubKey == nil {
			d.PubKey, _ = p.ExtractPublicKey()
		}
	}
	if which&BookProtocols != 0 {
		s := ps.pr.protos.segment(p)
		s.RLock()
		d.Protocols = protoList(s.protocols[p])
		s.RUnlock()
		found = found || len(d.Protocols) > 0
	}
	if which&BookMetadata != 0 {
		ps.pr.meta.mu.RLock()
		if m := ps.pr.meta.ds[p]; len(m) > 0 {
			d.Metadata = maps.Clone(m)
		}
		ps.pr.meta.mu.RUnlock()
		found = found || d.Metadata != nil
	}
	return d, found
}

// entries returns p's valid addresses with TTL and expiry, and its signed
// record (nil unless some address is valid).
func (ab *addrBook) entries(p peer.ID) ([]AddrEntry, *record.Envelope) {
	ab.mu.RLock()
	defer ab.mu.RUnlock()
	now := ab.clock.Now()
	var out []AddrEntry
	for _, a := range ab.addrs.get(p) {
		if !a.ExpiredBy(now) {
			out = append(out, AddrEntry{Addr: a.Addr, TTL: a.TTL, Expires: a.Expiry})
		}
	}
	slices.SortFunc(out, func(a, b AddrEntry) int { return compareBytes(a.Addr.Bytes(), b.Addr.Bytes()) })
	var env *record.Envelope
	if s := ab.records[p]; s != nil && len(out) > 0 {
		env = s.Envelope
	}
	return out, env
}

func compareBytes(a, b []byte) int {
	switch {
	case string(a) < string(b):
		return -1
	case string(a) > string(b):
		return 1
	}
	return 0
}

// DeletePeer deletes p's data in the books selected (zero: all, and then
// its latency too). Deleting BookAddrs drops the signed record with them;
// BookPubKey drops the private key as well. Unlike RemovePeer and expiry,
// it erases what the journal remembers of those books too (the dormant
// record, and with BookAddrs when p was last connected).
func (ps *Peerstore) DeletePeer(p peer.ID, which Books) {
	which = which.or(AllBooks)
	var evs, e []any
	var erase books
	ps.gate.RLock()
	switch {
	case which&BookAddrs != 0:
		evs = append(evs, ps.pr.addrs.ClearAddrs(p)...)
		ps.pr.addrs.forget(p)
	case which&BookRecord != 0:
		ps.pr.addrs.dropRecord(p)
	}
	if which&BookPubKey != 0 {
		ps.pr.keys.remove(p)
		erase |= bookKey
	}
	if which&BookProtocols != 0 {
		_, e = ps.pr.protos.remove(p)
		evs = append(evs, e...)
		erase |= bookProtos
	}
	if which&BookMetadata != 0 {
		_, e = ps.pr.meta.remove(p)
		evs = append(evs, e...)
		erase |= bookMeta
	}
	if erase != 0 {
		ps.pr.t.mark(p, erase) // ends the dormant record; the journal restates them empty
	}
	ps.gate.RUnlock()
	if which == AllBooks {
		ps.latency.RemovePeer(p)
	}
	ps.ev.emit(evs)
}

// dropRecord deletes p's signed record, keeping its addresses.
func (ab *addrBook) dropRecord(p peer.ID) {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	if _, ok := ab.records[p]; ok {
		delete(ab.records, p)
		ab.markDirty(p)
	}
}

// ListPeers returns every peer some book holds something for (private
// keys count), sorted by ID, with its data in the books selected (zero:
// all).
func (ps *Peerstore) ListPeers(which Books) []PeerData {
	ids := ps.pr.t.known()
	slices.Sort(ids)
	out := make([]PeerData, 0, len(ids))
	for _, p := range ids {
		d, _ := ps.GetPeer(p, which)
		out = append(out, d)
	}
	return out
}
