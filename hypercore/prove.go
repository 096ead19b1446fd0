package hypercore

import (
	"errors"
	"fmt"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// errNoData means a request cannot be answered from this book; the
// replicator replies no_data with reason.
type errNoData uint64

func (e errNoData) Error() string { return fmt.Sprintf("hypercore: no data (reason %d)", uint64(e)) }

// nodeSource reads stored tree nodes (a *book.Snapshot).
type nodeSource interface {
	Node(i uint64) (book.Node, error)
}

// prover builds hypercore-shaped proofs from a snapshot of a book.
type prover struct {
	src  nodeSource
	head *book.Head
}

func (p *prover) node(i uint64) (wire.Node, error) {
	n, err := p.src.Node(i)
	if err != nil {
		if errors.Is(err, book.ErrNotFound) {
			return wire.Node{}, errNoData(wire.ReasonNotAvailable)
		}
		return wire.Node{}, err
	}
	return wire.Node(n), nil
}

// path lists the siblings from node n up to (not including) top.
func (p *prover) path(n, top uint64) ([]wire.Node, error) {
	var out []wire.Node
	for ; n != top; n = book.NodeParent(n) {
		s, err := p.node(book.NodeSibling(n))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// prove answers a block and/or upgrade request the way hypercore's
// merkle tree does, so a Node verifier, which consumes nodes in a fixed
// order, accepts it:
//
//   - block alone (or below the upgrade's start): the first Nodes
//     siblings on the leaf's path, bottom-up;
//   - upgrade from→to: per root of `to`, left to right, nothing for roots
//     the requester has, the right-hand siblings above its last leaf for
//     the root that grows over it, the root itself otherwise; a block
//     inside the upgrade replaces the node that covers it with its path;
//   - additionalNodes, the same from `to` to our full length, for the
//     signature is always over our full length.
func (p *prover) prove(req *wire.Request) (*wire.Data, error) {
	h := p.head
	if req.Fork != h.Fork {
		return nil, errNoData(wire.ReasonNotAvailable)
	}
	if req.Hash != nil || req.Seek != nil || (req.Block == nil && req.Upgrade == nil) {
		return nil, errNoData(wire.ReasonNotAvailable)
	}
	d := &wire.Data{Request: req.ID, Fork: h.Fork}
	to := h.Length
	if u := req.Upgrade; u != nil {
		to = u.Start + u.Length
		if u.Length == 0 || to < u.Start || to > h.Length {
			return nil, errNoData(wire.ReasonInvalidRequest)
		}
	}
	subTree := uint64(0)
	merged := false
	if b := req.Block; b != nil {
		if b.Index >= h.Length {
			return nil, errNoData(wire.ReasonNotAvailable)
		}
		d.Block = &wire.DataBlock{Index: b.Index}
		if req.Upgrade == nil || b.Index < req.Upgrade.Start {
			top := 2 * b.Index
			for k := uint64(0); k < b.Nodes; k++ {
				top = book.NodeParent(top)
				if contains(top, 2*to) {
					return nil, errNoData(wire.ReasonInvalidRequest)
				}
			}
			nodes, err := p.path(2*b.Index, top)
			if err != nil {
				return nil, err
			}
			d.Block.Nodes = nodes
		} else {
			subTree, merged = 2*b.Index, true
		}
	}
	if u := req.Upgrade; u != nil {
		nodes, blockNodes, err := p.upgradeNodes(u.Start, to, subTree, merged)
		if err != nil {
			return nil, err
		}
		if merged {
			d.Block.Nodes = blockNodes
		}
		extra := []wire.Node{}
		if h.Length > to {
			if extra, _, err = p.upgradeNodes(to, h.Length, 0, false); err != nil {
				return nil, err
			}
		}
		d.Upgrade = &wire.DataUpgrade{Start: u.Start, Length: u.Length, Nodes: nodes, AdditionalNodes: extra,
			Signature: append([]byte(nil), h.Signature[:]...)}
	}
	return d, nil
}

// upgradeNodes lists the nodes that take a tree of `from` pages to `to`
// pages; with merged, the node covering leaf subTree is replaced by the
// leaf's path, returned separately.
func (p *prover) upgradeNodes(from, to, subTree uint64, merged bool) (nodes, blockNodes []wire.Node, err error) {
	nodes = []wire.Node{}
	// take sends node i, or the block's path in its place when i covers
	// the block (once).
	take := func(i uint64) error {
		if merged && contains(i, subTree) {
			merged = false
			blockNodes, err = p.path(subTree, i)
			return err
		}
		n, err := p.node(i)
		nodes = append(nodes, n)
		return err
	}
	for _, r := range book.Roots(to) {
		if _, last := book.NodePages(r); last < from {
			continue // the requester has this root
		}
		sent := []uint64{r}
		if from > 0 && contains(r, 2*(from-1)) {
			sent = rightSiblings(2*(from-1), r)
		}
		for _, i := range sent {
			if err := take(i); err != nil {
				return nil, nil, err
			}
		}
	}
	return nodes, blockNodes, nil
}
