package devtools

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/db/peerstore"
	"github.com/folio-p2p/folio/internal/safeterm"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// Names of the books whose pages folio knows how to decode, as the
// packages that write them name them.
const (
	profileBookName   = vault.ProfileBookName   // vault/pb.Profile pages
	peerstoreBookName = vault.PeerstoreBookName // db/peerstore/pb.Page pages
	messengerBookName = peer.JournalName        // peer/pb.Record pages (package peer's journal)
)

// isPeerstoreJournal reports whether name is a generation of the vault's
// peerstore journal (a checkpoint starts a new one).
func isPeerstoreJournal(name string) bool {
	_, ok := peerstore.JournalGeneration(peerstoreBookName, name)
	return ok
}

// bookKind says how a book's pages decode.
type bookKind string

const (
	kindRaw       bookKind = ""          // opaque bytes: shown in hex
	kindProfile   bookKind = "profile"   // vault/pb.Profile
	kindPeerstore bookKind = "peerstore" // db/peerstore/pb.Page
	kindMessenger bookKind = "messenger" // peer/pb.Record
	kindPair      bookKind = "pair"      // peer/pb.Address, then peer/pb.Envelope
)

// bookEntry is a catalogued book as the inspector shows it.
type bookEntry struct {
	info  *db.Info
	b     *book.Book // nil when it would not open (err says why)
	err   error
	title string // the name, or for a pair book read here the title its Address gives
	kind  bookKind
	pair  *pairTitle // for pair books
}

// pairTitle is a pair book, "<author>-<reader>-<task>": package peer
// owns the format (peer.ParseBookName, peer.DecodeAddress).
type pairTitle = peer.PairBook

// shortPair is the title with shortened IDs, for tables.
func shortPair(p *pairTitle) string {
	return shortPeer(p.Author) + "-" + shortPeer(p.Reader) + "-" + hex.EncodeToString(p.Task[:4]) + "…"
}

// parsePairTitle parses "<author>-<reader>-<task>".
func parsePairTitle(s string) (*pairTitle, bool) {
	p, ok := peer.ParseBookName(s)
	return &p, ok
}

// addressTitle reads the title a pair book's first page (an Address) gives.
func addressTitle(page []byte) (*pairTitle, bool) {
	p, ok := peer.DecodeAddress(page)
	return &p, ok
}

// label is how tables name the book.
func (e *bookEntry) label() string {
	switch {
	case e.pair != nil && e.title == e.pair.String():
		return shortPair(e.pair)
	case e.title != "":
		return safeterm.Printable(e.title)
	}
	return "(key " + hex.EncodeToString(e.info.Key[:8]) + ")"
}

// catalogue opens every book of the DB, in key order, and names each.
func (in *inspector) catalogue() ([]*bookEntry, error) {
	infos, err := in.env.DB.Books()
	if err != nil {
		return nil, fmt.Errorf("read the catalogue: %w", err)
	}
	out := make([]*bookEntry, 0, len(infos))
	for _, inf := range infos {
		out = append(out, in.entry(inf))
	}
	return out, nil
}

// entry opens the book of a catalogue record and works out its title and
// the kind of its pages.
func (in *inspector) entry(inf *db.Info) *bookEntry {
	e := &bookEntry{info: inf, title: inf.Name}
	e.b, e.err = in.env.DB.OpenKey(in.ctx, inf.Key)
	switch {
	case inf.Name == profileBookName:
		e.kind = kindProfile
	case isPeerstoreJournal(inf.Name):
		e.kind = kindPeerstore
	case inf.Name == messengerBookName:
		e.kind = kindMessenger
	case inf.Name != "":
		if p, ok := parsePairTitle(inf.Name); ok {
			e.kind, e.pair = kindPair, p
		}
	case e.b != nil && e.b.Length() > 0:
		if page, err := e.b.Get(in.ctx, 0, &book.GetOptions{LocalOnly: true}); err == nil {
			if p, ok := addressTitle(page); ok {
				e.kind, e.pair, e.title = kindPair, p, p.String()
			}
		}
	}
	return e
}

// resolve finds the book an argument names: a name or title, a key in
// hex, or a unique prefix of a key.
func (in *inspector) resolve(arg string) (*bookEntry, error) {
	all, err := in.catalogue()
	if err != nil {
		return nil, err
	}
	for _, e := range all {
		if e.title == arg || e.info.Name == arg {
			return e, nil
		}
	}
	lower := strings.ToLower(arg)
	if _, err := hex.DecodeString(lower + strings.Repeat("0", len(lower)%2)); err != nil || len(lower) < 4 {
		return nil, fmt.Errorf("no book is called %q (names and titles are listed by folio devtools books; a key prefix needs 4 hex digits or more)", arg)
	}
	var found []*bookEntry
	for _, e := range all {
		if strings.HasPrefix(hex.EncodeToString(e.info.Key), lower) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no book has a name, title or key starting with %q", arg)
	case 1:
		return found[0], nil
	}
	var keys []string
	for _, e := range found {
		keys = append(keys, hex.EncodeToString(e.info.Key[:8]))
	}
	sort.Strings(keys)
	return nil, fmt.Errorf("%q is a prefix of %d keys (%s…): give more of the key", arg, len(found), strings.Join(keys, "…, "))
}

// openBook resolves arg to an open book, or prints why not (exit 1).
func (in *inspector) openBook(arg string) (*bookEntry, int) {
	e, err := in.resolve(arg)
	if err != nil {
		return nil, in.fail("%v", err)
	}
	if e.b == nil {
		return nil, in.fail("book %s will not open: %v (folio devtools verify names what is wrong)", e.label(), e.err)
	}
	return e, 0
}

// shortPeer shortens a peer ID for tables: "…" and its last 8 characters.
func shortPeer(id libp2ppeer.ID) string {
	s := id.String()
	if len(s) <= 10 {
		return s
	}
	return "…" + s[len(s)-8:]
}

// openSnapshot resolves arg to a book and takes a snapshot of it; on
// failure it has reported the error and returns a nil entry and the exit
// code.
func (in *inspector) openSnapshot(arg string) (*bookEntry, *book.Snapshot, int) {
	e, code := in.openBook(arg)
	if e == nil {
		return nil, nil, code
	}
	snap, err := e.b.Snapshot()
	if err != nil {
		return nil, nil, in.fail("%v", err)
	}
	return e, snap, 0
}
