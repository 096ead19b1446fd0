package hypercore

import (
	"errors"
	"fmt"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// ErrBadProof means a peer's data message does not have the shape
// hypercore's proofs have; nothing of it is stored.
var ErrBadProof = errors.New("hypercore: malformed proof")

// toUpgrade translates a hypercore upgrade into book's UpgradeProof for a
// verifier at head cur (signed=false: it has nothing yet). Hypercore
// sends, for [start, start+length), each new root left to right — or,
// for the root that also covers old pages, the right-hand siblings on the
// path from the last old leaf — and then additionalNodes that extend the
// tree to the signer's full length, which may be longer than asked. The
// result carries the roots of that full length and book's link nodes;
// book.ApplyProof then checks every hash and the signature.
//
// extra, when not nil, is the node a block's path computed to (a block
// asked together with the upgrade): hypercore sends that path in place of
// the upgrade node it reaches. The returned pool holds every node given
// or derived, for extending that block's path to a signed root.
func toUpgrade(cur *book.Head, signed bool, u *wire.DataUpgrade, extra *book.Node) (*book.UpgradeProof, map[uint64]book.Node, error) {
	var have uint64
	old := map[uint64]book.Node{}
	if signed {
		have = cur.Length
		for _, r := range cur.Roots {
			old[r.Index] = r
		}
	}
	if u.Start != have {
		return nil, nil, fmt.Errorf("%w: upgrade from %d, we have %d", ErrBadProof, u.Start, have)
	}
	if u.Length == 0 || u.Start+u.Length < u.Start || len(u.Signature) != 64 {
		return nil, nil, fmt.Errorf("%w: upgrade %d+%d with a %d-byte signature", ErrBadProof, u.Start, u.Length, len(u.Signature))
	}
	pool := map[uint64]book.Node{}
	q := toBook(u.Nodes)
	shift := func(idx uint64) (book.Node, error) {
		if extra != nil && extra.Index == idx {
			n := *extra
			extra = nil
			pool[n.Index] = n
			return n, nil
		}
		if len(q) == 0 || q[0].Index != idx {
			return book.Node{}, fmt.Errorf("%w: expected upgrade node %d", ErrBadProof, idx)
		}
		n := q[0]
		q = q[1:]
		pool[n.Index] = n
		return n, nil
	}
	var build func(n uint64) (book.Node, error)
	build = func(n uint64) (book.Node, error) {
		if o, ok := old[n]; ok {
			return o, nil
		}
		if p, ok := pool[n]; ok {
			return p, nil
		}
		l, r, ok := book.NodeChildren(n)
		if !ok {
			return book.Node{}, fmt.Errorf("%w: node %d neither given nor held", ErrBadProof, n)
		}
		ln, err := build(l)
		if err != nil {
			return book.Node{}, err
		}
		rn, err := build(r)
		if err != nil {
			return book.Node{}, err
		}
		p := parentOf(ln, rn)
		pool[n] = p
		return p, nil
	}
	var roots []book.Node
	for _, r := range book.Roots(u.Start + u.Length) {
		if o, ok := old[r]; ok {
			roots = append(roots, o)
			continue
		}
		first, _ := book.NodePages(r)
		if first < have {
			// The root that grows over our last page: its new subtrees.
			for _, s := range rightSiblings(2*(have-1), r) {
				if _, err := shift(s); err != nil {
					return nil, nil, err
				}
			}
			n, err := build(r)
			if err != nil {
				return nil, nil, err
			}
			roots = append(roots, n)
			continue
		}
		n, err := shift(r)
		if err != nil {
			return nil, nil, err
		}
		roots = append(roots, n)
	}
	if len(q) != 0 || extra != nil {
		return nil, nil, fmt.Errorf("%w: %d upgrade nodes left over", ErrBadProof, len(q))
	}
	roots, err := extend(roots, toBook(u.AdditionalNodes), pool)
	if err != nil {
		return nil, nil, err
	}
	_, last := book.NodePages(roots[len(roots)-1].Index)
	length := last + 1
	up := &book.UpgradeProof{Start: have, Length: length, Roots: roots}
	copy(up.Signature[:], u.Signature)
	if have > 0 {
		for _, r := range roots {
			if _, isOld := old[r.Index]; isOld || !contains(r.Index, 2*(have-1)) || !contains(r.Index, 2*have) {
				continue
			}
			for _, s := range rightSiblings(2*(have-1), r.Index) {
				n, ok := pool[s]
				if !ok {
					return nil, nil, fmt.Errorf("%w: link node %d not derivable", ErrBadProof, s)
				}
				up.Nodes = append(up.Nodes, n)
			}
		}
	}
	for i, n := range old {
		pool[i] = n // the block path's left siblings may be our old roots
	}
	return up, pool, nil
}

// extend appends hypercore's additionalNodes to the roots: each node lies
// right after the last root, and equal-sized neighbours merge into their
// parent. The result must be the roots of a tree.
func extend(roots, extra []book.Node, pool map[uint64]book.Node) ([]book.Node, error) {
	if len(extra) > wire.MaxNodes {
		return nil, fmt.Errorf("%w: %d additional nodes", ErrBadProof, len(extra))
	}
	for _, e := range extra {
		_, last := book.NodePages(roots[len(roots)-1].Index)
		if first, _ := book.NodePages(e.Index); first != last+1 {
			return nil, fmt.Errorf("%w: additional node %d does not follow page %d", ErrBadProof, e.Index, last)
		}
		pool[e.Index] = e
		roots = append(roots, e)
		for len(roots) > 1 {
			a, b := roots[len(roots)-2], roots[len(roots)-1]
			if book.NodeSibling(a.Index) != b.Index {
				break
			}
			p := parentOf(a, b)
			pool[p.Index] = p
			roots = append(roots[:len(roots)-2], p)
		}
	}
	_, last := book.NodePages(roots[len(roots)-1].Index)
	want := book.Roots(last + 1)
	if len(want) != len(roots) {
		return nil, fmt.Errorf("%w: upgrade ends with %d roots, a tree of %d pages has %d", ErrBadProof, len(roots), last+1, len(want))
	}
	for i := range want {
		if roots[i].Index != want[i] {
			return nil, fmt.Errorf("%w: root %d is node %d, want %d", ErrBadProof, i, roots[i].Index, want[i])
		}
	}
	return roots, nil
}
