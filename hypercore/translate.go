package hypercore

import (
	"context"
	"fmt"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// applyData verifies and stores a data message in b, through book's
// proofs; nothing is stored unless it verifies.
func applyData(ctx context.Context, b *book.Book, d *wire.Data) error {
	ps, err := toProofs(b, d)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := b.ApplyProof(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// toProofs translates a data message into the book proofs that store it,
// in order. A block that came inside an upgrade gives two: the upgrade
// first (its roots are checked against the signature, the block's path
// included), then the page, whose path is extended to a signed root.
func toProofs(b *book.Book, d *wire.Data) ([]*book.Proof, error) {
	if d.Hash != nil || d.Seek != nil || (d.Block == nil && d.Upgrade == nil) {
		return nil, fmt.Errorf("%w: data with nothing we asked for", ErrBadProof)
	}
	var page *book.PageProof
	if blk := d.Block; blk != nil {
		page = &book.PageProof{Index: blk.Index, Value: blk.Value, Nodes: toBook(blk.Nodes)}
	}
	if d.Upgrade == nil {
		return []*book.Proof{{Fork: d.Fork, Page: page}}, nil
	}
	head, signed := b.Head()
	var extra *book.Node
	if page != nil {
		top, err := pathTop(page)
		if err != nil {
			return nil, err
		}
		extra = &top
	}
	// A head of a newer fork does not link to ours: the book takes its
	// roots on the signature alone and voids the old fork.
	up, pool, err := toUpgrade(head, signed && d.Fork == head.Fork, d.Upgrade, extra)
	if err != nil {
		return nil, err
	}
	out := []*book.Proof{{Fork: d.Fork, Upgrade: up}}
	if page != nil {
		roots := map[uint64]bool{}
		for _, r := range up.Roots {
			roots[r.Index] = true
		}
		for n := extra.Index; !roots[n]; n = book.NodeParent(n) {
			s, ok := pool[book.NodeSibling(n)]
			if !ok {
				return nil, fmt.Errorf("%w: block %d's path cannot reach a signed root", ErrBadProof, page.Index)
			}
			page.Nodes = append(page.Nodes, s)
		}
		out = append(out, &book.Proof{Fork: d.Fork, Page: page})
	}
	return out, nil
}

// pathTop hashes a page up its path: the node the path proves.
func pathTop(p *book.PageProof) (book.Node, error) {
	if len(p.Nodes) > wire.MaxNodes {
		return book.Node{}, fmt.Errorf("%w: block path of %d nodes", ErrBadProof, len(p.Nodes))
	}
	n := book.Node{Index: 2 * p.Index, Size: uint64(len(p.Value)), Hash: book.LeafHash(p.Value)}
	for _, s := range p.Nodes {
		if s.Index != book.NodeSibling(n.Index) {
			return book.Node{}, fmt.Errorf("%w: block %d path node %d misplaced", ErrBadProof, p.Index, s.Index)
		}
		if s.Index < n.Index {
			n = parentOf(s, n)
		} else {
			n = parentOf(n, s)
		}
	}
	return n, nil
}
