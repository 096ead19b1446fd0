package book

import "math/bits"

// Flat-tree indexing (the layout hypercore uses): leaves sit at even
// indices (page i is node 2i) and a parent sits between its two children.
// The depth of a node is its number of trailing one bits. These helpers are
// pure functions of the index; nothing here touches storage.

// depth returns the height of node i above the leaves.
func depth(i uint64) uint64 { return uint64(bits.TrailingZeros64(^i)) }

// offset returns the position of node i among the nodes of its depth.
func offset(i uint64) uint64 { return i >> (depth(i) + 1) }

// nodeIndex returns the index of the node at the given depth and offset.
func nodeIndex(d, off uint64) uint64 { return off<<(d+1) | (1<<d - 1) }

// parent returns the index of node i's parent.
func parent(i uint64) uint64 { d := depth(i); return nodeIndex(d+1, offset(i)>>1) }

// sibling returns the index of the other child of node i's parent.
func sibling(i uint64) uint64 { d := depth(i); return nodeIndex(d, offset(i)^1) }

// children returns node i's children; ok is false for a leaf.
func children(i uint64) (left, right uint64, ok bool) {
	d := depth(i)
	if d == 0 {
		return 0, 0, false
	}
	half := uint64(1) << (d - 1)
	return i - half, i + half, true
}

// leftSpan and rightSpan return the leftmost and rightmost leaf indices
// (as node indices) covered by node i.
func leftSpan(i uint64) uint64  { return i - (1<<depth(i) - 1) }
func rightSpan(i uint64) uint64 { return i + (1<<depth(i) - 1) }

// leafCount returns how many pages node i covers.
func leafCount(i uint64) uint64 { return 1 << depth(i) }

// fullRoots returns the roots of a tree holding length pages, left to
// right: one perfect subtree per set bit of length, largest first.
func fullRoots(length uint64) []uint64 {
	roots := make([]uint64, 0, bits.OnesCount64(length))
	var start uint64 // first page not yet covered
	for length > 0 {
		size := uint64(1) << (63 - bits.LeadingZeros64(length))
		roots = append(roots, nodeIndex(uint64(bits.TrailingZeros64(size)), start/size))
		start += size
		length -= size
	}
	return roots
}

// within reports whether node i lies entirely inside a tree of length pages.
func within(i, length uint64) bool { return rightSpan(i)/2 < length }
