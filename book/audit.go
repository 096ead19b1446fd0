package book

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/bits"

	"github.com/cockroachdb/pebble/v2"
)

// ProblemKind names what an audit found wrong.
type ProblemKind string

const (
	ProblemHead      ProblemKind = "head"      // the head record is unreadable
	ProblemSignature ProblemKind = "signature" // the head's signature does not verify
	ProblemPage      ProblemKind = "page"      // a page does not match its leaf hash
	ProblemNode      ProblemKind = "node"      // a node does not match its children or the head
	ProblemMissing   ProblemKind = "missing"   // a writable book lacks a page or node
)

// Problem is one thing an audit found wrong.
type Problem struct {
	Kind   ProblemKind
	Index  uint64 // page index for pages, node index for nodes
	Detail string
}

func (p Problem) String() string { return fmt.Sprintf("%s %d: %s", p.Kind, p.Index, p.Detail) }

// AuditReport is the result of an audit.
type AuditReport struct {
	Pages    uint64 // page records checked
	Nodes    uint64 // node records checked
	Problems []Problem
}

// OK reports whether the audit found nothing wrong.
func (r *AuditReport) OK() bool { return len(r.Problems) == 0 }

// Err returns nil, or an error matching ErrCorrupt naming the first problem.
func (r *AuditReport) Err() error {
	if r.OK() {
		return nil
	}
	return fmt.Errorf("%w: %d problems, first: %s", ErrCorrupt, len(r.Problems), r.Problems[0])
}

// maxProblems bounds a report so a wrecked book does not exhaust memory.
const maxProblems = 1000

// Audit re-reads everything the book stores: it re-hashes every page and
// every parent node from its children, checks the roots against the head
// and the stored head record and its signature. A writable book must also
// hold every page (or, for a page Clear removed, its leaf hash) and node.
// It reads from a snapshot, so it may run while the book is in use.
func (b *Book) Audit(ctx context.Context) (*AuditReport, error) {
	s, err := b.Snapshot()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	a := &auditor{r: s.snap, k: b.keys, h: s.st.head, rep: &AuditReport{}}
	a.head(b.key, s.st)
	if err := a.pages(ctx); err != nil {
		return nil, err
	}
	if err := a.nodes(ctx); err != nil {
		return nil, err
	}
	if err := a.roots(); err != nil {
		return nil, err
	}
	if b.secret != nil && a.rep.Pages+a.cleared != a.h.Length {
		a.add(ProblemMissing, a.rep.Pages, fmt.Sprintf("writable book holds %d of %d pages (%d cleared)", a.rep.Pages, a.h.Length, a.cleared))
	}
	if want := a.h.Length - uint64(bits.OnesCount64(a.h.Length)); b.secret != nil && a.parents != want {
		a.add(ProblemMissing, a.parents, fmt.Sprintf("writable book holds %d of %d parent nodes", a.parents, want))
	}
	if !a.rep.OK() {
		b.opts.EventListener.corruption(CorruptionInfo{Book: b.name, Err: a.rep.Err()})
	}
	return a.rep, nil
}

type auditor struct {
	r   pebble.Reader
	k   keys
	h   *Head
	rep *AuditReport

	parents uint64 // parent (non-leaf) node records seen
	cleared uint64 // leaf records without a page record: pages Clear removed
}

func (a *auditor) add(kind ProblemKind, i uint64, detail string) {
	if len(a.rep.Problems) < maxProblems {
		a.rep.Problems = append(a.rep.Problems, Problem{Kind: kind, Index: i, Detail: detail})
	}
}

// head re-reads the stored head record: it must decode, carry a valid
// signature and be the head the book is using.
func (a *auditor) head(key ed25519.PublicKey, st *state) {
	if st.signed {
		if err := st.head.Verify(key); err != nil {
			a.add(ProblemSignature, st.head.Length, err.Error())
		}
	}
	v, closer, err := a.r.Get(a.k.head())
	if errors.Is(err, pebble.ErrNotFound) && !st.signed {
		return // a never-signed book stores no head
	}
	if err != nil {
		a.add(ProblemHead, st.head.Length, "head record unreadable: "+err.Error())
		return
	}
	defer closer.Close()
	h, _, err := decodeHead(v)
	if err != nil {
		a.add(ProblemHead, st.head.Length, err.Error())
		return
	}
	if err := h.Verify(key); err != nil {
		a.add(ProblemSignature, h.Length, "stored head: "+err.Error())
		return
	}
	if !bytes.Equal(v, encodeHead(st.head, st.frozen)) {
		a.add(ProblemHead, h.Length, "stored head is not the head in use")
	}
}

func (a *auditor) pages(ctx context.Context) error {
	start, end := a.k.span(tagPage)
	it, err := a.r.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if a.rep.Pages%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		a.rep.Pages++
		i, v := keyIndex(it.Key()), it.Value()
		switch {
		case len(it.Key()) != len(a.k.page(0)):
			a.add(ProblemPage, i, "malformed key")
		case i >= a.h.Length:
			a.add(ProblemPage, i, fmt.Sprintf("stored past length %d", a.h.Length))
		case len(v) < HashSize:
			a.add(ProblemPage, i, "record shorter than a hash")
		case LeafHash(v[HashSize:]) != [32]byte(v[:HashSize]):
			a.add(ProblemPage, i, "bytes do not match the leaf hash")
		}
	}
	return it.Error()
}

func (a *auditor) nodes(ctx context.Context) error {
	start, end := a.k.span(tagNode)
	it, err := a.r.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if a.rep.Nodes%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		a.rep.Nodes++
		i := keyIndex(it.Key())
		n, err := decodeNodeValue(i, it.Value())
		if err != nil {
			a.add(ProblemNode, i, err.Error())
			continue
		}
		if !within(i, a.h.Length) {
			a.add(ProblemNode, i, fmt.Sprintf("outside the tree of length %d", a.h.Length))
			continue
		}
		if depth(i) > 0 {
			a.parents++
		} else if ok, _ := hasPage(a.r, a.k, i/2, a.h.Length); !ok {
			a.cleared++
		}
		a.checkChildren(n)
	}
	return it.Error()
}

// checkChildren re-hashes a parent from its children when both are held.
func (a *auditor) checkChildren(n Node) {
	l, r, ok := children(n.Index)
	if !ok {
		return
	}
	left, errL := getNode(a.r, a.k, l)
	right, errR := getNode(a.r, a.k, r)
	for _, err := range []error{errL, errR} {
		if err != nil && !errors.Is(err, ErrNotFound) {
			a.add(ProblemNode, n.Index, "child unreadable: "+err.Error())
			return
		}
	}
	if errL == nil && errR == nil && parentNode(left, right) != n {
		a.add(ProblemNode, n.Index, "does not match the hash of its children")
	}
}

// roots checks each root stored as a node (or page) against the head.
func (a *auditor) roots() error {
	for _, root := range a.h.Roots {
		n, err := getNode(a.r, a.k, root.Index)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			a.add(ProblemNode, root.Index, err.Error())
			continue
		}
		if n != root {
			a.add(ProblemNode, root.Index, "root does not match the signed head")
		}
	}
	return nil
}
