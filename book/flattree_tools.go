package book

// The flat-tree arithmetic, exported for tools that walk a book's Merkle
// tree (the inspector draws it and checks proofs by hand): page i is node
// 2i, a parent sits between its two children, a node's depth is its
// number of trailing one bits.

// NodeDepth returns the height of node i above the pages.
func NodeDepth(i uint64) uint64 { return depth(i) }

// NodeParent returns the index of node i's parent.
func NodeParent(i uint64) uint64 { return parent(i) }

// NodeSibling returns the other child of node i's parent.
func NodeSibling(i uint64) uint64 { return sibling(i) }

// NodeChildren returns node i's children; ok is false for a page.
func NodeChildren(i uint64) (left, right uint64, ok bool) { return children(i) }

// NodePages returns the first and last page node i covers.
func NodePages(i uint64) (first, last uint64) { return leftSpan(i) / 2, rightSpan(i) / 2 }

// Roots returns the roots of a tree of length pages, left to right.
func Roots(length uint64) []uint64 { return fullRoots(length) }
