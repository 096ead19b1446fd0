package book

import (
	"fmt"
)

// Limits on what a proof may carry, so a hostile proof costs little.
const (
	maxProofNodes = 128
)

// EquivocationError carries two valid signed heads of the same fork that
// cannot both be true: the evidence. It matches ErrEquivocation.
type EquivocationError struct {
	Stored *Head
	Other  *Head
}

func (e *EquivocationError) Error() string {
	return fmt.Sprintf("%v: heads of fork %d at lengths %d and %d", ErrEquivocation, e.Stored.Fork, e.Stored.Length, e.Other.Length)
}

// Is makes errors.Is(err, ErrEquivocation) true.
func (e *EquivocationError) Is(target error) bool { return target == ErrEquivocation }

// verified is what a proof lets the verifier store.
type verified struct {
	head   *Head  // the new head; nil when the proof does not move it
	forked bool   // head is in a newer fork: everything older is void
	nodes  []Node // verified tree nodes (parents and hash-only leaves)
	page   *PageProof
	leaf   Node
	rng    *RangeProof
	leaves []Node // of rng's pages
}

// nodeLookup returns a node the verifier trusts (stored after verifying).
type nodeLookup func(index uint64) (Node, bool)

// verifyProof checks p against the verifier's signed state cur (signed is
// false when it has none) and the nodes it trusts. It is the pure core of
// ApplyProof: no storage, no clock, no goroutines.
func verifyProof(key *verifyKey, cur *Head, signed bool, known nodeLookup, p *Proof, maxPage, maxPages int) (*verified, error) {
	if p == nil || (p.Page == nil && p.Range == nil && p.Upgrade == nil) {
		return nil, fmt.Errorf("%w: empty proof", ErrVerify)
	}
	if p.Page != nil && p.Range != nil {
		return nil, fmt.Errorf("%w: proof carries both a page and a range", ErrVerify)
	}
	v := &verified{}
	target := cur
	if p.Upgrade != nil {
		nh, forked, nodes, err := verifyUpgrade(key, cur, signed, p.Fork, p.Upgrade)
		if err != nil {
			return nil, err
		}
		v.head, v.forked, v.nodes = nh, forked, nodes
		if nh != nil {
			target = nh
		}
	}
	if p.Page != nil || p.Range != nil {
		if !signed && v.head == nil {
			return nil, fmt.Errorf("%w: page proof without a signed head to check it against", ErrVerify)
		}
		if p.Fork != target.Fork {
			return nil, fmt.Errorf("%w: page proof for fork %d, verifier has fork %d", ErrStale, p.Fork, target.Fork)
		}
		if v.forked || !signed {
			known = nil // nodes of an older fork, or of no fork, prove nothing
		}
		if p.Range != nil {
			nodes, leaves, err := verifyRange(target, known, p.Range, maxPage, maxPages)
			if err != nil {
				return nil, err
			}
			v.nodes = append(v.nodes, nodes...)
			v.rng, v.leaves = p.Range, leaves
			return v, nil
		}
		nodes, leaf, err := verifyPath(target, known, p.Page, maxPage)
		if err != nil {
			return nil, err
		}
		v.nodes = append(v.nodes, nodes...)
		v.page, v.leaf = p.Page, leaf
	}
	return v, nil
}

// verifyUpgrade checks a signed head and its link to cur. It returns the
// new head (nil when it equals cur), whether it starts a new fork, and the
// nodes it proves.
func verifyUpgrade(key *verifyKey, cur *Head, signed bool, fork uint64, u *UpgradeProof) (*Head, bool, []Node, error) {
	if len(u.Roots) > maxRoots || len(u.Nodes) > maxProofNodes {
		return nil, false, nil, fmt.Errorf("%w: upgrade carries too many nodes", ErrVerify)
	}
	nh := &Head{Fork: fork, Length: u.Length, Roots: append([]Node(nil), u.Roots...), Signature: u.Signature}
	for _, r := range nh.Roots {
		nh.ByteLength += r.Size
	}
	nh.TreeHash = TreeHash(nh.Roots)
	if err := nh.verifyWith(key); err != nil {
		return nil, false, nil, err
	}
	switch {
	case !signed && (u.Start != 0 || len(u.Nodes) != 0):
		// A verifier with nothing has length 0: links from elsewhere are
		// not for it, and no byte of a proof goes unchecked.
		return nil, false, nil, fmt.Errorf("%w: upgrade from %d with %d link nodes, verifier has nothing", ErrVerify, u.Start, len(u.Nodes))
	case !signed || fork > cur.Fork:
		// Nothing to link to: the signature alone vouches for the roots.
		return nh, signed, nh.Roots, nil
	case fork < cur.Fork:
		return nil, false, nil, fmt.Errorf("%w: head of fork %d, verifier is at fork %d", ErrStale, fork, cur.Fork)
	case u.Length < cur.Length:
		return nil, false, nil, fmt.Errorf("%w: head of length %d, verifier has %d", ErrStale, u.Length, cur.Length)
	case u.Length == cur.Length:
		if nh.TreeHash != cur.TreeHash {
			return nil, false, nil, &EquivocationError{Stored: cur.Clone(), Other: nh}
		}
		return nil, false, nil, nil
	case u.Start != cur.Length:
		return nil, false, nil, fmt.Errorf("%w: upgrade starts at %d, verifier has length %d", ErrVerify, u.Start, cur.Length)
	}
	nodes, err := linkRoots(cur, nh, u.Nodes)
	if err != nil {
		return nil, false, nil, err
	}
	return nh, false, nodes, nil
}

// linkRoots checks that the old roots lie inside the new head's tree,
// rebuilding every mixed root from old roots and the given new subtrees.
// A shared root that differs is equivocation (both heads are signed); a
// rebuilt root that differs is a bad proof (the given nodes are not).
func linkRoots(cur, nh *Head, given []Node) ([]Node, error) {
	old := make(map[uint64]Node, len(cur.Roots))
	for _, r := range cur.Roots {
		old[r.Index] = r
	}
	want := upgradeNodes(cur.Length, nh.Length)
	if len(want) != len(given) {
		return nil, fmt.Errorf("%w: upgrade carries %d link nodes, want %d", ErrVerify, len(given), len(want))
	}
	byIndex := make(map[uint64]Node, len(given))
	for i, n := range given {
		if n.Index != want[i] {
			return nil, fmt.Errorf("%w: upgrade link node %d has index %d, want %d", ErrVerify, i, n.Index, want[i])
		}
		byIndex[n.Index] = n
	}
	out := append([]Node(nil), nh.Roots...)
	var build func(n uint64) Node
	build = func(n uint64) Node {
		if o, ok := old[n]; ok {
			return o
		}
		if g, ok := byIndex[n]; ok {
			return g
		}
		l, r, _ := children(n)
		p := parentNode(build(l), build(r))
		out = append(out, p)
		return p
	}
	for _, root := range nh.Roots {
		if o, ok := old[root.Index]; ok {
			if o != root {
				return nil, &EquivocationError{Stored: cur.Clone(), Other: nh}
			}
			continue
		}
		if leftSpan(root.Index)/2 >= cur.Length {
			continue // only new pages: the signature covers it
		}
		if build(root.Index) != root {
			// The link nodes are not signed: a mismatch proves nothing
			// against the author, so it must not freeze the book.
			return nil, fmt.Errorf("%w: upgrade link nodes do not rebuild signed root %d", ErrVerify, root.Index)
		}
	}
	return append(out, given...), nil
}

// verifyPath hashes a page up its path until a node the verifier trusts.
func verifyPath(target *Head, known nodeLookup, pp *PageProof, maxPage int) ([]Node, Node, error) {
	if pp.Index >= target.Length {
		return nil, Node{}, fmt.Errorf("%w: page %d past length %d", ErrVerify, pp.Index, target.Length)
	}
	if len(pp.Value) > maxPage {
		return nil, Node{}, fmt.Errorf("%w: page %d is %d bytes, limit %d", ErrTooLarge, pp.Index, len(pp.Value), maxPage)
	}
	if len(pp.Nodes) > maxRoots {
		return nil, Node{}, fmt.Errorf("%w: page path of %d nodes", ErrVerify, len(pp.Nodes))
	}
	roots := make(map[uint64]Node, len(target.Roots))
	for _, r := range target.Roots {
		roots[r.Index] = r
	}
	leaf := leafNode(pp.Index, pp.Value)
	n := leaf
	var out []Node
	for _, s := range pp.Nodes {
		if _, isRoot := roots[n.Index]; isRoot || s.Index != sibling(n.Index) {
			return nil, Node{}, fmt.Errorf("%w: page %d path node %d is misplaced", ErrVerify, pp.Index, s.Index)
		}
		out = append(out, s)
		if s.Index < n.Index {
			n = parentNode(s, n)
		} else {
			n = parentNode(n, s)
		}
		out = append(out, n)
	}
	if r, ok := roots[n.Index]; ok {
		if r != n {
			return nil, Node{}, fmt.Errorf("%w: page %d does not hash to the signed root", ErrVerify, pp.Index)
		}
		return out, leaf, nil
	}
	if known != nil {
		if k, ok := known(n.Index); ok {
			if k != n {
				return nil, Node{}, fmt.Errorf("%w: page %d does not hash to the stored node %d", ErrVerify, pp.Index, n.Index)
			}
			return out, leaf, nil
		}
	}
	return nil, Node{}, fmt.Errorf("%w: page %d path ends at node %d, which nothing verified", ErrVerify, pp.Index, n.Index)
}
