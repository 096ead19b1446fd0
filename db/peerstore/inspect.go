package peerstore

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// JournalPage is one page of a peerstore journal, parsed by the codec the
// peerstore itself reads with but not applied: for tools that show a
// journal page by page (devtools' inspector), so the format has one
// decoder.
type JournalPage struct {
	// Written is when the page was written: Unix nanoseconds on the
	// writer's Options.Clock, informational only.
	Written int64
	// Kind is "peer", "checkpoint" or "checkpoint chunk".
	Kind string
	// CheckpointPeers is how many peers a checkpoint's chunks restate.
	CheckpointPeers uint64
	// Peers holds a peer page's peer, or a chunk's peers.
	Peers []JournalPeer
}

// JournalPeer is one peer as a page restates it. Only the books named by
// Books are restated; the others are empty.
type JournalPeer struct {
	// ID is the peer ID's bytes as written, valid or not.
	ID []byte
	// Books is the set of Journal* bits the page restates.
	Books uint32
	// Addrs are the addresses, in the order written.
	Addrs []JournalAddr
	// Record is the signed peer record, if any.
	Record *JournalRecord
	// PublicKey is the marshalled public key (libp2p's crypto format).
	PublicKey []byte
	// Protocols in the order written; ProtocolsErr says why they did not
	// decode (the page is then refused by the peerstore).
	Protocols    []string
	ProtocolsErr error
	// Metadata sorted by key, values of the Go types the peerstore
	// returns; MetadataErr as ProtocolsErr.
	Metadata    []JournalMetaEntry
	MetadataErr error
	// LastConnected is when the peer last held a connection (Unix
	// nanoseconds on the writer's clock; 0: never).
	LastConnected int64
}

// JournalAddr is one journaled address.
type JournalAddr struct {
	// Raw is the multiaddr's bytes as written, valid or not.
	Raw []byte
	// HasTTL is false when the page lacks the TTL or expiry of this
	// address (the peerstore refuses such a page).
	HasTTL  bool
	TTL     time.Duration
	Expires time.Time
}

// JournalRecord is a journaled signed peer record.
type JournalRecord struct {
	Seq      uint64
	Envelope []byte
}

// JournalMetaEntry is one metadata entry.
type JournalMetaEntry struct {
	Key   string
	Value any
}

// DecodeJournalPage parses one journal page. An error (wrapping
// ErrCorrupt) means the page is not a page of this format; the embedded
// protocol and metadata lists report their own errors in the result so
// the rest of a damaged page can still be shown.
func DecodeJournalPage(data []byte) (JournalPage, error) {
	pg, err := parsePage(data)
	if err != nil {
		return JournalPage{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	out := JournalPage{Written: pg.time}
	switch {
	case pg.checkpoint:
		out.Kind, out.CheckpointPeers = "checkpoint", pg.ckptPeers
	case pg.chunk:
		out.Kind = "checkpoint chunk"
	default:
		out.Kind = "peer"
	}
	for _, b := range pg.peers {
		r, err := parsePeer(b)
		if err != nil {
			return JournalPage{}, fmt.Errorf("%w: peer: %v", ErrCorrupt, err)
		}
		out.Peers = append(out.Peers, journalPeer(r))
	}
	return out, nil
}

func journalPeer(r rawPeer) JournalPeer {
	jp := JournalPeer{ID: r.id, Books: r.books, PublicKey: r.pubKey, LastConnected: r.lastConn}
	for i, raw := range r.addrs {
		a := JournalAddr{Raw: raw}
		if i < len(r.ttls) && i < len(r.expSec) && i < len(r.expNanos) {
			a.HasTTL, a.TTL, a.Expires = true, time.Duration(r.ttls[i]), time.Unix(r.expSec[i], int64(r.expNanos[i]))
		}
		jp.Addrs = append(jp.Addrs, a)
	}
	if r.record != nil {
		jp.Record = &JournalRecord{Seq: r.record.seq, Envelope: r.record.envelope}
	}
	if len(r.protos) > 0 {
		jp.Protocols, jp.ProtocolsErr = parseStringList(r.protos)
	}
	if len(r.meta) > 0 {
		m, err := parseMeta(r.meta)
		jp.MetadataErr = err
		for k, v := range m {
			jp.Metadata = append(jp.Metadata, JournalMetaEntry{Key: k, Value: v})
		}
		slices.SortFunc(jp.Metadata, func(a, b JournalMetaEntry) int { return cmp.Compare(a.Key, b.Key) })
	}
	return jp
}
