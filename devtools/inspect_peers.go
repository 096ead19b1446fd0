package devtools

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/folio-p2p/folio/db/peerstore"
)

// PeerInfo is one peer of the peerstore projection.
type PeerInfo struct {
	ID           string     `json:"id"`
	Addrs        []AddrInfo `json:"addrs"`
	SignedRecord bool       `json:"signed_record"`
	PublicKey    string     `json:"public_key,omitempty"` // type and raw bytes in hex
	Protocols    []string   `json:"protocols"`
	Metadata     []MetaInfo `json:"metadata"`
}

// AddrInfo is an address with its TTL and expiry.
type AddrInfo struct {
	Addr    string `json:"addr"`
	TTL     string `json:"ttl"` // a duration, "permanent" or "connected"
	Expires string `json:"expires"`
}

// MetaInfo is a metadata entry, its value shown with its Go type.
type MetaInfo struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (in *inspector) peers(args []string) int {
	fs := in.flags("The peerstore's projection: every peer with its addresses (TTL and\nexpiry), signed record, public key, protocols and metadata. From a running\npeer, its live peerstore; from disk, the journal folded read-only.")
	if _, ok, code := in.parse(fs, args, 0, 0); !ok {
		return code
	}
	ps, closePS, err := in.openPeerstore()
	if err != nil {
		return in.fail("%v", err)
	}
	defer closePS()
	var out []PeerInfo
	for _, d := range ps.ListPeers(peerstore.AllBooks) {
		out = append(out, peerInfo(d))
	}
	opened := ps.Opened()
	if in.json {
		in.emit(struct {
			Live    bool       `json:"live"`
			Journal string     `json:"journal"`
			Length  uint64     `json:"journal_length"`
			Peers   []PeerInfo `json:"peers"`
		}{in.live(), peerstoreBookName, ps.Journal().Length(), nonNil(out)})
		return 0
	}
	source := "the live peerstore"
	if !in.live() {
		source = fmt.Sprintf("folded from page %d of the journal", opened.FirstPage)
	}
	in.printf("%d peers (journal %s: %d pages; %s)\n", len(out), peerstoreBookName, ps.Journal().Length(), source)
	for _, p := range out {
		in.printPeer(p)
	}
	return 0
}

// openPeerstore returns the live peerstore, or one folded read-only from the
// vault's journal (close it after use).
func (in *inspector) openPeerstore() (*peerstore.Peerstore, func(), error) {
	if in.env.Peerstore != nil {
		return in.env.Peerstore, func() {}, nil
	}
	if names, err := in.env.DB.Names(peerstoreBookName); err != nil || !slices.ContainsFunc(names, isPeerstoreJournal) {
		return nil, nil, fmt.Errorf("this vault has no peerstore journal (%s)", peerstoreBookName)
	}
	ps, err := peerstore.Open(in.ctx, in.env.DB, &peerstore.Options{Name: peerstoreBookName, GCInterval: time.Hour, ExactReopen: true}) // as journaled: an inspection changes no TTL
	if err != nil {
		return nil, nil, fmt.Errorf("fold the peerstore journal: %w", err)
	}
	return ps, func() { ps.Close() }, nil
}

func peerInfo(d peerstore.PeerData) PeerInfo {
	p := PeerInfo{ID: d.ID.String(), Addrs: []AddrInfo{}, SignedRecord: d.Record != nil, Protocols: []string{}, Metadata: []MetaInfo{}}
	for _, a := range d.Addrs {
		p.Addrs = append(p.Addrs, AddrInfo{Addr: a.Addr.String(), TTL: ttlText(a.TTL), Expires: expiryText(a.TTL, a.Expires)})
	}
	if d.PubKey != nil {
		p.PublicKey = keyText(d.PubKey)
	}
	for _, proto := range d.Protocols {
		p.Protocols = append(p.Protocols, string(proto))
	}
	for _, k := range slices.Sorted(maps.Keys(d.Metadata)) {
		p.Metadata = append(p.Metadata, MetaInfo{Key: k, Value: anyText(d.Metadata[k])})
	}
	return p
}

func (in *inspector) printPeer(p PeerInfo) {
	in.printf("\n%s\n", p.ID)
	if len(p.Addrs) == 0 {
		in.printf("  addrs      (none)\n")
	}
	for i, a := range p.Addrs {
		label := ""
		if i == 0 {
			label = "addrs"
		}
		in.printf("  %-10s %s  ttl %s  expires %s\n", label, a.Addr, a.TTL, a.Expires)
	}
	if p.SignedRecord {
		in.printf("  record     signed peer record held\n")
	}
	if p.PublicKey != "" {
		in.printf("  key        %s\n", p.PublicKey)
	}
	protos := "(none)"
	if len(p.Protocols) > 0 {
		protos = strings.Join(p.Protocols, ", ")
	}
	in.printf("  protocols  %s\n", protos)
	for i, m := range p.Metadata {
		label := ""
		if i == 0 {
			label = "metadata"
		}
		in.printf("  %-10s %s = %s\n", label, m.Key, m.Value)
	}
}

// RebuildReport is `peerstore rebuild`.
type RebuildReport struct {
	Live           bool     `json:"live"`       // compared with a live projection
	FirstPage      uint64   `json:"first_page"` // where the fold started (the last checkpoint, or 0)
	Pages          uint64   `json:"pages"`      // pages folded
	Peers          int      `json:"peers"`
	PeersWithAddrs int      `json:"peers_with_addrs"`
	Addrs          int      `json:"addrs"`
	JournalLength  uint64   `json:"journal_length"`
	LastCheckpoint uint64   `json:"last_checkpoint"`
	Problems       []string `json:"problems"` // differences between the fold and the live projection
}

func (in *inspector) peerstore(args []string) int {
	fs := in.flags("peerstore rebuild: fold the peerstore's journal again into a fresh\nprojection and compare it with the live one (a running peer), peer by\npeer and book by book; exit 1 naming each difference. From disk there is\nno live projection: the fold is done and its counts reported.")
	pos, ok, code := in.parse(fs, args, 1, 1)
	if !ok {
		return code
	}
	if pos[0] != "rebuild" {
		return in.usage("unknown peerstore command %q (only rebuild)", pos[0])
	}
	ps, closePS, err := in.openPeerstore()
	if err != nil {
		return in.fail("%v", err)
	}
	defer closePS()
	rep := &RebuildReport{Live: in.live(), Problems: []string{}}
	if in.live() {
		a, err := auditPeerstore(in, ps)
		if err != nil {
			return in.fail("rebuild: %v", err)
		}
		rep.FirstPage, rep.Pages, rep.Problems = a.FirstPage, a.Pages, nonNil(a.Problems)
	} else {
		o := ps.Opened()
		rep.FirstPage, rep.Pages = o.FirstPage, o.Pages
	}
	m := ps.Metrics()
	rep.Peers, rep.PeersWithAddrs, rep.Addrs = m.Peers, m.PeersWithAddrs, m.Addrs
	rep.JournalLength, rep.LastCheckpoint = m.JournalLength, m.LastCheckpoint
	if in.json {
		in.emit(rep)
	} else {
		in.printRebuild(rep)
	}
	if len(rep.Problems) > 0 {
		return 1
	}
	return 0
}

// auditPeerstore compares a fresh fold with the live projection. Writes
// racing the comparison can show as differences, so a failed comparison
// is run once more before it counts.
func auditPeerstore(in *inspector, ps *peerstore.Peerstore) (*peerstore.AuditReport, error) {
	rep, err := ps.Audit(in.ctx)
	if err != nil || rep.OK() {
		return rep, err
	}
	select {
	case <-in.ctx.Done():
		return rep, nil
	case <-time.After(500 * time.Millisecond):
	}
	return ps.Audit(in.ctx)
}

func (in *inspector) printRebuild(r *RebuildReport) {
	where := "read from disk"
	if r.Live {
		where = "the running peer's"
	}
	in.printf("rebuilt the projection from the journal %s (%s): folded %d pages from page %d\n", peerstoreBookName, where, r.Pages, r.FirstPage)
	in.printf("  peers             %d\n  peers with addrs  %d\n  addresses         %d\n", r.Peers, r.PeersWithAddrs, r.Addrs)
	ckpt := "none"
	if r.LastCheckpoint > 0 {
		ckpt = fmt.Sprintf("page %d", r.LastCheckpoint)
	}
	in.printf("  journal           %d pages, last checkpoint %s\n", r.JournalLength, ckpt)
	switch {
	case !r.Live:
		in.printf("no live projection to compare with: run it against a running peer (folio run)\n")
	case len(r.Problems) == 0:
		in.printf("the rebuilt projection equals the live one\n")
	default:
		in.printf("the rebuilt projection differs from the live one:\n")
		for _, p := range r.Problems {
			in.printf("  %s\n", p)
		}
	}
}
