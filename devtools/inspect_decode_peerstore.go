package devtools

import (
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/folio-p2p/folio/db/peerstore"
)

// Pages of the peerstore's journal: one peer's restated books, or a
// checkpoint and its chunks. They are parsed by db/peerstore's own codec
// (DecodeJournalPage), so the inspector and the peerstore never disagree
// on what a page says. See db/peerstore's doc.

func decodePeerstorePage(page []byte) *decodedPage {
	d := &decodedPage{Type: "peerstore page"}
	pg, err := peerstore.DecodeJournalPage(page)
	if err != nil {
		d.Err = fmt.Errorf("not a peerstore page: %w", err)
		return d
	}
	f := fields{}.add("written", nanosText(pg.Written)+" (informational)")
	switch pg.Kind {
	case "peer":
		d.Fields = append(f.add("body", "peer"), journalPeerFields(pg.Peers[0])...)
	case "checkpoint":
		d.Fields = f.add("body", "checkpoint").add("peers", pg.CheckpointPeers)
	default:
		var peers []fields
		for _, jp := range pg.Peers {
			peers = append(peers, journalPeerFields(jp))
		}
		d.Fields = f.add("body", pg.Kind).add("peers", peers)
	}
	return d
}

// journalPeerFields describes one peer's journal form.
func journalPeerFields(p peerstore.JournalPeer) fields {
	f := fields{}.add("peer", peerText(p.ID)).add("books", journalBooks(p.Books))
	var addrs []string
	for _, a := range p.Addrs {
		m, err := ma.NewMultiaddrBytes(a.Raw)
		text := hex.EncodeToString(a.Raw) + " (not a multiaddr)"
		if err == nil {
			text = m.String()
		}
		if a.HasTTL {
			text += "  ttl " + ttlText(a.TTL) + "  expires " + expiryText(a.TTL, a.Expires)
		}
		addrs = append(addrs, text)
	}
	if p.Books&peerstore.JournalAddrs != 0 {
		f = f.add("addrs", addrs)
	}
	if p.Record != nil {
		f = f.add("signed record", fmt.Sprintf("seq %d, %d bytes", p.Record.Seq, len(p.Record.Envelope)))
	}
	if len(p.PublicKey) > 0 {
		f = f.add("public key", pubKeyText(p.PublicKey))
	}
	if p.Books&peerstore.JournalProtos != 0 {
		if p.ProtocolsErr != nil {
			f = f.add("protocols", "undecodable: "+p.ProtocolsErr.Error())
		} else {
			f = f.add("protocols", append([]string{}, p.Protocols...))
		}
	}
	if p.Books&peerstore.JournalMeta != 0 {
		if p.MetadataErr != nil {
			f = f.add("metadata", "undecodable: "+p.MetadataErr.Error())
		} else {
			meta := []string{}
			for _, m := range p.Metadata {
				meta = append(meta, m.Key+" = "+anyText(m.Value))
			}
			f = f.add("metadata", meta)
		}
	}
	if p.LastConnected != 0 {
		f = f.add("last connected", nanosText(p.LastConnected))
	}
	return f
}

// journalBooks names the books of a Peer message's bit set, as
// db/peerstore (which owns the bits) names them.
func journalBooks(bits uint32) string {
	names := peerstore.JournalBookNames(bits)
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// anyText shows a metadata value as the peerstore returns it.
func anyText(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return fmt.Sprintf("%q (string)", x)
	case []byte:
		return hex.EncodeToString(x) + " ([]byte)"
	case []string:
		return fmt.Sprintf("%q ([]string)", x)
	case time.Duration:
		return x.String() + " (time.Duration)"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// pubKeyText shows a marshalled public key as its type and raw bytes.
func pubKeyText(b []byte) string {
	k, err := ic.UnmarshalPublicKey(b)
	if err != nil {
		return hex.EncodeToString(b) + " (undecodable: " + err.Error() + ")"
	}
	return keyText(k)
}

func keyText(k ic.PubKey) string {
	raw, err := k.Raw()
	if err != nil {
		return k.Type().String()
	}
	return k.Type().String() + " " + hex.EncodeToString(raw)
}

// ttlText names the libp2p TTL constants and shows others as durations.
func ttlText(ttl time.Duration) string {
	switch ttl {
	case pstore.PermanentAddrTTL:
		return "permanent"
	case pstore.ConnectedAddrTTL:
		return "connected"
	}
	return ttl.String()
}

// expiryText shows an address's expiry; permanent and connected
// addresses never expire.
func expiryText(ttl time.Duration, at time.Time) string {
	if ttl >= pstore.ConnectedAddrTTL || at.Unix() >= math.MaxInt64/int64(time.Second) {
		return "never"
	}
	return at.UTC().Format(time.RFC3339)
}

// nanosText shows Unix nanoseconds in UTC.
func nanosText(ns int64) string {
	if ns == 0 {
		return "(none)"
	}
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000Z")
}
