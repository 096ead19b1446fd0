package book

import (
	"slices"
	"testing"
)

// modelNode is one node of an explicit binary tree, built independently of
// the flat-tree formulas: nodes are numbered by an in-order walk.
type modelNode struct {
	index         uint64
	depth         uint64
	first, last   uint64 // pages covered, inclusive
	parent        uint64
	hasParent     bool
	left, right   uint64
	hasChildren   bool
	sibling       uint64
	offsetInDepth uint64
}

// buildModel builds the explicit tree over 2^height pages.
func buildModel(height uint64) map[uint64]*modelNode {
	nodes := make(map[uint64]*modelNode)
	var counter uint64
	perDepth := make(map[uint64]uint64)
	var walk func(d, first uint64) *modelNode
	walk = func(d, first uint64) *modelNode {
		n := &modelNode{depth: d, first: first, last: first + (1 << d) - 1}
		var l, r *modelNode
		if d > 0 {
			l = walk(d-1, first)
		}
		n.index = counter
		counter++
		if d > 0 {
			r = walk(d-1, first+(1<<(d-1)))
			n.left, n.right, n.hasChildren = l.index, r.index, true
			for _, c := range []*modelNode{l, r} {
				c.parent, c.hasParent = n.index, true
			}
			l.sibling, r.sibling = r.index, l.index
		}
		nodes[n.index] = n
		return n
	}
	walk(height, 0)
	// offsets: order of nodes of one depth by index
	idx := make([]uint64, 0, len(nodes))
	for i := range nodes {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	for _, i := range idx {
		n := nodes[i]
		n.offsetInDepth = perDepth[n.depth]
		perDepth[n.depth]++
	}
	return nodes
}

func TestFlatTreeAgainstModel(t *testing.T) {
	const height = 9 // 512 pages, 1023 nodes
	model := buildModel(height)
	if len(model) != 1<<(height+1)-1 {
		t.Fatalf("model has %d nodes", len(model))
	}
	for i := uint64(0); i < uint64(len(model)); i++ {
		m := model[i]
		if m == nil {
			t.Fatalf("model lacks node %d", i)
		}
		if got := depth(i); got != m.depth {
			t.Fatalf("depth(%d) = %d, want %d", i, got, m.depth)
		}
		if got := offset(i); got != m.offsetInDepth {
			t.Fatalf("offset(%d) = %d, want %d", i, got, m.offsetInDepth)
		}
		if got := nodeIndex(m.depth, m.offsetInDepth); got != i {
			t.Fatalf("nodeIndex(%d, %d) = %d, want %d", m.depth, m.offsetInDepth, got, i)
		}
		if got := leftSpan(i); got != 2*m.first {
			t.Fatalf("leftSpan(%d) = %d, want %d", i, got, 2*m.first)
		}
		if got := rightSpan(i); got != 2*m.last {
			t.Fatalf("rightSpan(%d) = %d, want %d", i, got, 2*m.last)
		}
		if got := leafCount(i); got != m.last-m.first+1 {
			t.Fatalf("leafCount(%d) = %d, want %d", i, got, m.last-m.first+1)
		}
		l, r, ok := children(i)
		if ok != m.hasChildren || (ok && (l != m.left || r != m.right)) {
			t.Fatalf("children(%d) = %d, %d, %v; want %d, %d, %v", i, l, r, ok, m.left, m.right, m.hasChildren)
		}
		if m.hasParent {
			if got := parent(i); got != m.parent {
				t.Fatalf("parent(%d) = %d, want %d", i, got, m.parent)
			}
			if got := sibling(i); got != m.sibling {
				t.Fatalf("sibling(%d) = %d, want %d", i, got, m.sibling)
			}
		}
		for length := uint64(0); length <= 1<<height; length += 1 + length/7 {
			if got, want := within(i, length), m.last < length; got != want {
				t.Fatalf("within(%d, %d) = %v, want %v", i, length, got, want)
			}
		}
	}
}

// modelRoots returns the roots of a tree of length pages from the model:
// nodes entirely inside the tree whose parent is not, sorted by index.
func modelRoots(model map[uint64]*modelNode, length uint64) []uint64 {
	var out []uint64
	for i, m := range model {
		if m.last >= length {
			continue
		}
		if m.hasParent && model[m.parent].last < length {
			continue
		}
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

func TestFullRootsAgainstModel(t *testing.T) {
	const height = 10
	model := buildModel(height)
	for length := uint64(0); length <= 1<<height; length++ {
		got := fullRoots(length)
		want := modelRoots(model, length)
		if !slices.Equal(got, want) {
			t.Fatalf("fullRoots(%d) = %v, want %v", length, got, want)
		}
		// largest first, covering [0, length) without gaps
		var next uint64
		for _, r := range got {
			if leftSpan(r)/2 != next {
				t.Fatalf("fullRoots(%d): root %d starts at page %d, want %d", length, r, leftSpan(r)/2, next)
			}
			next = rightSpan(r)/2 + 1
		}
		if next != length {
			t.Fatalf("fullRoots(%d) covers %d pages", length, next)
		}
	}
}

func TestFlatTreeLargeIndices(t *testing.T) {
	// identities that must hold far beyond the model's range
	for _, i := range []uint64{1 << 40, 1<<40 + 1, 1<<41 - 1, 3<<50 + 7, 1<<62 - 2, 12345678901} {
		p := parent(i)
		if depth(p) != depth(i)+1 {
			t.Fatalf("depth(parent(%d)) = %d, want %d", i, depth(p), depth(i)+1)
		}
		l, r, ok := children(p)
		if !ok || (l != i && r != i) {
			t.Fatalf("children(parent(%d)) = %d, %d", i, l, r)
		}
		if s := sibling(i); (s != l && s != r) || s == i {
			t.Fatalf("sibling(%d) = %d, children of parent %d, %d", i, s, l, r)
		}
		if leftSpan(p) > leftSpan(i) || rightSpan(p) < rightSpan(i) {
			t.Fatalf("parent %d does not span node %d", p, i)
		}
		if nodeIndex(depth(i), offset(i)) != i {
			t.Fatalf("nodeIndex(depth, offset) of %d is not %d", i, i)
		}
	}
	if got := fullRoots(1<<62 + 1); len(got) != 2 || got[0] != 1<<62-1 || got[1] != 1<<63 {
		t.Fatalf("fullRoots(2^62+1) = %v", got)
	}
}

func TestRootSetAndUpgradeNodes(t *testing.T) {
	// upgradeNodes(start, length) together with the roots of start must
	// exactly tile [0, length) inside the mixed roots: every page of a
	// mixed root is covered by exactly one old root or upgrade node.
	for length := uint64(1); length <= 80; length++ {
		for start := uint64(0); start <= length; start++ {
			ups := upgradeNodes(start, length)
			old := rootSet(start)
			if len(old) != len(fullRoots(start)) {
				t.Fatalf("rootSet(%d) has %d entries", start, len(old))
			}
			covered := make([]int, length)
			for _, n := range ups {
				if leftSpan(n)/2 < start {
					t.Fatalf("upgradeNodes(%d, %d): node %d covers old page %d", start, length, n, leftSpan(n)/2)
				}
				if !within(n, length) {
					t.Fatalf("upgradeNodes(%d, %d): node %d outside the tree", start, length, n)
				}
				for p := leftSpan(n) / 2; p <= rightSpan(n)/2; p++ {
					covered[p]++
				}
			}
			for _, root := range fullRoots(length) {
				mixed := leftSpan(root)/2 < start && rightSpan(root)/2 >= start && !old[root]
				for p := leftSpan(root) / 2; p <= rightSpan(root)/2; p++ {
					switch {
					case mixed && p >= start && covered[p] != 1:
						t.Fatalf("upgradeNodes(%d, %d): page %d of root %d covered %d times", start, length, p, root, covered[p])
					case !mixed && covered[p] != 0:
						t.Fatalf("upgradeNodes(%d, %d): page %d of unmixed root %d covered", start, length, p, root)
					}
				}
			}
			if start == 0 || start == length {
				if len(ups) != 0 {
					t.Fatalf("upgradeNodes(%d, %d) = %v, want none", start, length, ups)
				}
			}
		}
	}
}
