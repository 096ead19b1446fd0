package hypercore

import (
	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// The two Node types are the same triple; these convert slices of them.

func toBook(ns []wire.Node) []book.Node {
	out := make([]book.Node, len(ns))
	for i, n := range ns {
		out[i] = book.Node(n)
	}
	return out
}

func parentOf(l, r book.Node) book.Node {
	return book.Node{Index: book.NodeParent(l.Index), Size: l.Size + r.Size, Hash: book.ParentHash(l, r)}
}

// contains reports whether flat-tree node n spans node x.
func contains(n, x uint64) bool {
	first, last := book.NodePages(n)
	return 2*first <= x && x <= 2*last
}

// rightSiblings lists, bottom-up, the right-hand siblings on the path from
// node leaf up to (not including) root: the subtrees right of leaf.
func rightSiblings(leaf, root uint64) []uint64 {
	var out []uint64
	for n := leaf; n != root; n = book.NodeParent(n) {
		if s := book.NodeSibling(n); s > n {
			out = append(out, s)
		}
	}
	return out
}
