package devtools

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/internal/safeterm"
	"github.com/folio-p2p/folio/vault"
)

// BookInfo is one book as `books` reports it.
type BookInfo struct {
	Title        string `json:"title"`          // name, or the title a pair book's first page gives; "" if unknown
	Name         string `json:"name,omitempty"` // the catalogue name (writable books)
	Kind         string `json:"kind,omitempty"` // how its pages decode: profile, peerstore, messenger, pair
	Key          string `json:"key"`
	DiscoveryKey string `json:"discovery_key"`
	Writable     bool   `json:"writable"` // this vault holds the secret key
	Length       uint64 `json:"length"`   // signed pages
	Bytes        uint64 `json:"bytes"`    // signed bytes
	Fork         uint64 `json:"fork"`
	Stored       uint64 `json:"stored"` // pages stored in this vault
	Signed       bool   `json:"signed"` // a signed head exists
	// SignedTime is always null: a signed head (hypercore's format) carries
	// no timestamp, so the inspector does not know when it was signed.
	SignedTime *string `json:"signed_time"`
	Frozen     bool    `json:"frozen,omitempty"`
	// ReplicatesWith lists the peers with a live replication session that
	// may carry the book (live peer only; null when read from disk).
	ReplicatesWith []string `json:"replicates_with"`
	Error          string   `json:"error,omitempty"` // why the book would not open
}

func (in *inspector) books(args []string) int {
	fs := in.flags("Every book of the vault: title, key, discovery key, writable or read-only,\nlength, bytes, fork, pages stored here, and the peers it replicates with\n(a running peer only).")
	if _, ok, code := in.parse(fs, args, 0, 0); !ok {
		return code
	}
	all, err := in.catalogue()
	if err != nil {
		return in.fail("%v", err)
	}
	sessions := in.sessions()
	var out []BookInfo
	for _, e := range all {
		out = append(out, in.bookInfo(e, sessions))
	}
	if in.json {
		in.emit(struct {
			Live  bool       `json:"live"`
			Books []BookInfo `json:"books"`
		}{in.live(), out})
		return 0
	}
	in.printBooks(all, out)
	return 0
}

// sessions returns the peers the live vault replicates with (nil when
// read-only).
func (in *inspector) sessions() []libp2ppeer.ID {
	if !in.live() {
		return nil
	}
	s := in.env.Vault.Sessions()
	slices.Sort(s)
	return s
}

func (in *inspector) bookInfo(e *bookEntry, sessions []libp2ppeer.ID) BookInfo {
	bi := BookInfo{
		Title: e.title, Name: e.info.Name, Kind: string(e.kind),
		Key: hex.EncodeToString(e.info.Key), DiscoveryKey: hex.EncodeToString(e.info.DiscoveryKey[:]),
		Writable: e.info.Writable,
	}
	if e.b == nil {
		bi.Error = e.err.Error()
		return bi
	}
	_, bi.Signed = e.b.Head()
	bi.Length, bi.Bytes, bi.Fork, bi.Frozen = e.b.Length(), e.b.ByteLength(), e.b.Fork(), e.b.Frozen()
	bi.Stored = storedPages(e)
	if in.live() {
		bi.ReplicatesWith = []string{}
		for _, p := range replicatesWith(e, in.env.Vault.ID(), sessions) {
			bi.ReplicatesWith = append(bi.ReplicatesWith, p.String())
		}
	}
	return bi
}

// storedPages counts the pages of e stored here.
func storedPages(e *bookEntry) uint64 {
	spans, err := e.b.Spans(0, 1<<20)
	if err != nil {
		return 0
	}
	var n uint64
	for _, s := range spans {
		n += s.Length
	}
	return n
}

// replicatesWith picks, among the live sessions, the peers that may carry
// e: for a pair book the other member of the pair; for a private book
// nobody (the vault never offers it); for any other book every peer in
// session (it is offered to all; those who know its key share it).
func replicatesWith(e *bookEntry, me libp2ppeer.ID, sessions []libp2ppeer.ID) []libp2ppeer.ID {
	switch {
	case e.pair != nil:
		other := e.pair.Reader
		if other == me {
			other = e.pair.Author
		}
		if slices.Contains(sessions, other) {
			return []libp2ppeer.ID{other}
		}
		return nil
	case e.info.Writable && strings.HasPrefix(e.info.Name, vault.PrivatePrefix):
		return nil
	}
	return sessions
}

func (in *inspector) printBooks(all []*bookEntry, out []BookInfo) {
	tw := tabwriter.NewWriter(in.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TITLE\tKEY\tDISCOVERY KEY\tMODE\tLENGTH\tBYTES\tFORK\tSTORED\tSIGNED\tREPLICATES WITH")
	for i, bi := range out {
		mode := "read-only"
		if bi.Writable {
			mode = "writable"
		}
		if bi.Error != "" {
			fmt.Fprintf(tw, "%s\t%s…\t%s…\t%s\tERROR: %s\n", all[i].label(), bi.Key[:16], bi.DiscoveryKey[:16], mode, safeterm.Printable(bi.Error))
			continue
		}
		signed := "yes"
		if !bi.Signed {
			signed = "never"
		}
		if bi.Frozen {
			signed += " (FROZEN)"
		}
		fmt.Fprintf(tw, "%s\t%s…\t%s…\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", all[i].label(), bi.Key[:16], bi.DiscoveryKey[:16],
			mode, bi.Length, bi.Bytes, bi.Fork, bi.Stored, signed, in.withText(bi.ReplicatesWith))
	}
	tw.Flush()
	fmt.Fprintf(in.stdout, "\n%d books. Signed time: not recorded (a signed head carries no timestamp).\n", len(out))
	if !in.live() {
		fmt.Fprintf(in.stdout, "Read from disk: replication is known only to a running peer (folio run).\n")
	}
}

func (in *inspector) withText(peers []string) string {
	switch {
	case peers == nil:
		return "-"
	case len(peers) == 0:
		return "none"
	case len(peers) > 2:
		return fmt.Sprintf("%d peers", len(peers))
	}
	var s []string
	for _, p := range peers {
		if id, err := libp2ppeer.Decode(p); err == nil {
			s = append(s, shortPeer(id))
		}
	}
	return strings.Join(s, ", ")
}
