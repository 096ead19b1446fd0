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
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/db/peerstore"
	pspb "github.com/folio-p2p/folio/db/peerstore/pb"
)

// Pages of the peerstore's journal (db/peerstore/pb.Page): one peer's
// restated books, or a checkpoint and its chunks. See db/peerstore's doc.

func decodePeerstorePage(page []byte) *decodedPage {
	return decodeAs("peerstore page", page, &pspb.Page{}, func(p *pspb.Page) (fields, error) {
		if p.Version != 1 {
			return nil, fmt.Errorf("peerstore page of format version %d (this inspector reads 1)", p.Version)
		}
		f := fields{}.add("written", nanosText(p.Time)+" (informational)")
		switch b := p.Body.(type) {
		case *pspb.Page_Peer:
			return append(f.add("body", "peer"), journalPeerFields(b.Peer)...), nil
		case *pspb.Page_Checkpoint:
			return f.add("body", "checkpoint").add("peers", b.Checkpoint.Peers), nil
		case *pspb.Page_Chunk:
			var peers []fields
			for _, jp := range b.Chunk.Peers {
				peers = append(peers, journalPeerFields(jp))
			}
			return f.add("body", "checkpoint chunk").add("peers", peers), nil
		}
		return nil, fmt.Errorf("peerstore page without a body")
	})
}

// journalPeerFields describes one peer's journal form.
func journalPeerFields(p *pspb.Peer) fields {
	f := fields{}.add("peer", peerText(p.Id)).add("books", journalBooks(p.Books))
	var addrs []string
	for i, raw := range p.Addrs {
		a, err := ma.NewMultiaddrBytes(raw)
		text := hex.EncodeToString(raw) + " (not a multiaddr)"
		if err == nil {
			text = a.String()
		}
		if i < len(p.AddrTtls) && i < len(p.AddrExpirySeconds) && i < len(p.AddrExpiryNanos) {
			ttl := time.Duration(p.AddrTtls[i])
			text += "  ttl " + ttlText(ttl) + "  expires " + expiryText(ttl, time.Unix(p.AddrExpirySeconds[i], int64(p.AddrExpiryNanos[i])))
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
		var list pspb.StringList
		if err := proto.Unmarshal(p.Protocols, &list); err != nil {
			f = f.add("protocols", "undecodable: "+err.Error())
		} else {
			f = f.add("protocols", append([]string{}, list.Values...))
		}
	}
	if p.Books&peerstore.JournalMeta != 0 {
		var list pspb.MetaList
		if err := proto.Unmarshal(p.Metadata, &list); err != nil {
			f = f.add("metadata", "undecodable: "+err.Error())
		} else {
			meta := []string{}
			for _, m := range list.Entries {
				meta = append(meta, m.Key+" = "+valueText(m.Value))
			}
			f = f.add("metadata", meta)
		}
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

// valueText shows a journaled metadata value with its Go type.
func valueText(v *pspb.Value) string {
	if v == nil || v.Kind == nil {
		return "nil"
	}
	switch k := v.Kind.(type) {
	case *pspb.Value_String_:
		return fmt.Sprintf("%q (string)", k.String_)
	case *pspb.Value_Bytes:
		return hex.EncodeToString(k.Bytes) + " ([]byte)"
	case *pspb.Value_Bool:
		return fmt.Sprintf("%v (bool)", k.Bool)
	case *pspb.Value_Int:
		return fmt.Sprintf("%d (int)", k.Int)
	case *pspb.Value_Int64:
		return fmt.Sprintf("%d (int64)", k.Int64)
	case *pspb.Value_Int32:
		return fmt.Sprintf("%d (int32)", k.Int32)
	case *pspb.Value_Uint:
		return fmt.Sprintf("%d (uint)", k.Uint)
	case *pspb.Value_Uint64:
		return fmt.Sprintf("%d (uint64)", k.Uint64)
	case *pspb.Value_Uint32:
		return fmt.Sprintf("%d (uint32)", k.Uint32)
	case *pspb.Value_Uint8:
		return fmt.Sprintf("%d (uint8)", k.Uint8)
	case *pspb.Value_Float64:
		return fmt.Sprintf("%g (float64)", k.Float64)
	case *pspb.Value_Float32:
		return fmt.Sprintf("%g (float32)", k.Float32)
	case *pspb.Value_Duration:
		return time.Duration(k.Duration).String() + " (time.Duration)"
	case *pspb.Value_Strings:
		return fmt.Sprintf("%q ([]string)", k.Strings.GetValues())
	}
	return fmt.Sprintf("%v", v.Kind)
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
