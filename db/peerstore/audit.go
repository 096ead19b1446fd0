package peerstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// AuditReport is the result of Audit.
type AuditReport struct {
	FirstPage uint64   // the page the fold started from
	Pages     uint64   // pages folded
	Peers     int      // peers in the live projection
	Problems  []string // differences between the fold and the live state
}

// OK reports whether the audit found no problem.
func (r *AuditReport) OK() bool { return len(r.Problems) == 0 }

// Audit flushes, folds the journal again into fresh books (from the first
// stored page: with Options.NoClear, the whole journal) and compares them
// with the live books: every peer's valid addresses with TTL and expiry,
// signed record, public key, protocols and metadata. Run it while nothing
// writes to the peerstore; tests run it after every scenario.
func (ps *Peerstore) Audit(ctx context.Context) (*AuditReport, error) {
	if err := ps.Flush(ctx); err != nil {
		return nil, err
	}
	fresh := newProjection(&ps.o)
	f := newFolder(fresh)
	ps.j.ckptMu.Lock()
	first, err := f.foldJournal(ctx, ps.j.book())
	ps.j.ckptMu.Unlock()
	if err != nil {
		return nil, err
	}
	f.finish(false)
	now := ps.o.Clock.Now()
	live, folded := ps.pr.canonical(now), fresh.canonical(now)
	rep := &AuditReport{FirstPage: first, Pages: f.pages, Peers: len(live)}
	rep.Problems = diffCanonical(live, folded)
	return rep, nil
}

// canonPeer is a peer's observable, journaled state in a comparable form.
type canonPeer struct {
	addrs  []string // "addr ttl expiry", sorted, valid ones only
	record []byte   // envelope bytes and sequence, if some address is valid
	pubKey []byte
	protos []string
	meta   []string // "key=encoded value", sorted
}

func (c canonPeer) empty() bool {
	return len(c.addrs) == 0 && c.record == nil && c.pubKey == nil && len(c.protos) == 0 && len(c.meta) == 0
}

// canonical returns the observable state of every peer, at now.
func (pr *projection) canonical(now time.Time) map[peer.ID]canonPeer {
	ids := map[peer.ID]struct{}{}
	for _, p := range pr.remembered() {
		ids[p] = struct{}{}
	}
	for _, p := range pr.addrs.PeersWithAddrs() {
		ids[p] = struct{}{}
	}
	out := make(map[peer.ID]canonPeer, len(ids))
	for p := range ids {
		if c := pr.canonPeer(p, now); !c.empty() {
			out[p] = c
		}
	}
	return out
}

// The books a RemovePeer evicted count with their dormant state: that is
// what the journal restates, and what a fold brings back.
func (pr *projection) canonPeer(p peer.ID, now time.Time) canonPeer {
	var c canonPeer
	snap := []peerSnap{{id: p, books: bookKey | bookProtos | bookMeta}}
	pr.keys.capture(snap)
	pr.protos.capture(snap)
	pr.meta.capture(snap)
	pr.t.fillDormant(snap)
	s0 := &snap[0]
	pr.addrs.mu.RLock()
	for _, a := range pr.addrs.addrs.get(p) {
		if !a.ExpiredBy(now) {
			c.addrs = append(c.addrs, fmt.Sprintf("%s ttl=%d exp=%d.%09d", a.Addr, a.TTL, a.Expiry.Unix(), a.Expiry.Nanosecond()))
		}
	}
	if s := pr.addrs.records[p]; s != nil && len(c.addrs) > 0 {
		env, _ := s.Envelope.Marshal()
		c.record = fmt.Appendf(env, " seq=%d", s.Seq)
	}
	pr.addrs.mu.RUnlock()
	slices.Sort(c.addrs)
	if s0.pubKey != nil {
		c.pubKey, _ = ic.MarshalPublicKey(s0.pubKey)
	}
	for proto := range s0.protos {
		c.protos = append(c.protos, string(proto))
	}
	slices.Sort(c.protos)
	for k, v := range s0.meta {
		var enc []byte
		if v != nil {
			enc = appendValue(nil, v)
		}
		c.meta = append(c.meta, fmt.Sprintf("%s=%T:%x", k, v, enc))
	}
	slices.Sort(c.meta)
	return c
}

// diffCanonical lists the differences between a live and a folded state.
func diffCanonical(live, folded map[peer.ID]canonPeer) []string {
	var out []string
	for p, l := range live {
		f, ok := folded[p]
		if !ok {
			out = append(out, fmt.Sprintf("peer %s: live, missing from the journal", p))
			continue
		}
		out = append(out, diffPeer(p, l, f)...)
	}
	for p := range folded {
		if _, ok := live[p]; !ok {
			out = append(out, fmt.Sprintf("peer %s: in the journal, not live", p))
		}
	}
	slices.Sort(out)
	return out
}

func diffPeer(p peer.ID, l, f canonPeer) []string {
	var out []string
	check := func(what string, same bool, lv, fv any) {
		if !same {
			out = append(out, fmt.Sprintf("peer %s: %s: live %v, journal %v", p, what, lv, fv))
		}
	}
	check("addrs", slices.Equal(l.addrs, f.addrs), l.addrs, f.addrs)
	check("signed record", bytes.Equal(l.record, f.record), len(l.record), len(f.record))
	check("public key", bytes.Equal(l.pubKey, f.pubKey), l.pubKey, f.pubKey)
	check("protocols", slices.Equal(l.protos, f.protos), l.protos, f.protos)
	check("metadata", slices.Equal(l.meta, f.meta), l.meta, f.meta)
	return out
}
