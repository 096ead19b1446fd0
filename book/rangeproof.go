package book

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// RangeProof proves a run of consecutive pages at once: the pages and the
// sibling nodes needed to hash them up to the roots. Its overhead is about
// two nodes per tree level whatever the number of pages, which is what
// makes bulk replication cheap; a single page is a range of one.
type RangeProof struct {
	Start  uint64
	Values [][]byte
	Nodes  []Node // in increasing index order
}

// RangeRequest asks for the pages [Start, End). With MaxBytes > 0 the
// proof stops after the page that brings its values to MaxBytes or more
// (it always holds at least one page); the verifier sees which pages came.
type RangeRequest struct {
	Start, End uint64
	MaxBytes   int
}

// maxRangeNodes bounds a range proof's nodes: two per level at most.
const maxRangeNodes = 2 * maxRoots

// buildRange proves pages [start, end) of the tree h, up to its roots.
// With arena non-nil, the pages are appended to *arena and alias it.
func buildRange(r pebble.Reader, k keys, h *Head, rc *recentNodes, req RangeRequest, arena *[]byte) (*RangeProof, error) {
	if req.Start >= req.End || req.End > h.Length {
		return nil, fmt.Errorf("%w: range [%d, %d) of a book of length %d", ErrOutOfRange, req.Start, req.End, h.Length)
	}
	values, err := readRange(r, k, req, arena)
	if err != nil {
		return nil, err
	}
	rp := &RangeProof{Start: req.Start, Values: values}
	end := req.Start + uint64(len(values))
	for _, idx := range rangeSiblings(req.Start, end, h.Length) {
		n, err := rc.node(r, k, idx)
		if err != nil {
			return nil, fmt.Errorf("prove range [%d, %d): %w", req.Start, req.End, err)
		}
		rp.Nodes = append(rp.Nodes, n)
	}
	return rp, nil
}

// readRange reads the pages of req with one iterator (a Get per page costs
// a seek each, and evicts more of the block cache on large books). Each
// page is copied out of the iterator: into its own slice, or appended to
// *arena when arena is non-nil (one buffer the caller reuses, instead of
// an allocation per page).
func readRange(r pebble.Reader, k keys, req RangeRequest, arena *[]byte) ([][]byte, error) {
	if req.End-req.Start <= shortRange {
		return readShortRange(r, k, req, arena)
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: k.page(req.Start), UpperBound: k.page(req.End)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	values := make([][]byte, 0, min(req.End-req.Start, 4096))
	total, want := 0, req.Start
	for it.First(); it.Valid() && (req.MaxBytes <= 0 || total < req.MaxBytes); it.Next() {
		v := it.Value()
		if keyIndex(it.Key()) != want {
			return nil, fmt.Errorf("prove range: page %d: %w", want, ErrNotFound)
		}
		if len(v) < HashSize {
			return nil, fmt.Errorf("prove range: %w: page record %d is %d bytes", ErrCorrupt, want, len(v))
		}
		values = appendValue(values, v[HashSize:], arena)
		total += len(v) - HashSize
		want++
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if len(values) == 0 || (req.MaxBytes <= 0 || total < req.MaxBytes) && want != req.End {
		return nil, fmt.Errorf("prove range: page %d: %w", want, ErrNotFound)
	}
	return values, nil
}

// shortRange: ranges of this many pages or fewer are read with a Get per
// page. A push carries the pages just appended, which a Get finds in the
// memtable, where an iterator also positions itself in every level: an
// iterator cost about 2.4 µs for one such page, a Get 1.4 µs.
const shortRange = 2

// readShortRange is readRange with a Get per page.
func readShortRange(r pebble.Reader, k keys, req RangeRequest, arena *[]byte) ([][]byte, error) {
	values := make([][]byte, 0, req.End-req.Start)
	total := 0
	for i := req.Start; i < req.End && (req.MaxBytes <= 0 || total < req.MaxBytes); i++ {
		v, closer, err := r.Get(k.page(i))
		if errors.Is(err, pebble.ErrNotFound) {
			return nil, fmt.Errorf("prove range: page %d: %w", i, ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		if len(v) < HashSize {
			closer.Close()
			return nil, fmt.Errorf("prove range: %w: page record %d is %d bytes", ErrCorrupt, i, len(v))
		}
		values = appendValue(values, v[HashSize:], arena)
		closer.Close()
		total += len(v) - HashSize
	}
	return values, nil
}

// appendValue appends a copy of the page v to values: into *arena when
// arena is non-nil, else into its own slice.
func appendValue(values [][]byte, v []byte, arena *[]byte) [][]byte {
	if arena == nil {
		return append(values, append(make([]byte, 0, len(v)), v...))
	}
	// A value sliced before the arena grew keeps the old array: still
	// valid, only not reused.
	at := len(*arena)
	*arena = append(*arena, v...)
	return append(values, (*arena)[at:len(*arena):len(*arena)])
}

// rangeSiblings returns, in increasing order, the nodes a verifier needs
// besides the pages [start, end) to hash them up to the roots of length.
// At each level the pages' ancestors form a run, so only the two ends can
// lack a sibling.
func rangeSiblings(start, end, length uint64) []uint64 {
	roots := rootSet(length)
	var out []uint64
	lo, hi := 2*start, 2*(end-1) // the run's ends at the current depth
	for {
		if roots[hi] { // only the last node of a depth can be a root
			if lo == hi {
				break
			}
			hi = prevAtDepth(hi)
		}
		if s := sibling(lo); s < lo {
			out = append(out, s)
		}
		if s := sibling(hi); s > hi {
			out = append(out, s)
		}
		lo, hi = parent(lo), parent(hi)
	}
	slices.Sort(out)
	return out
}

func prevAtDepth(i uint64) uint64 { return i - 2<<depth(i) }

// verifyRange hashes the pages of rp up through the given nodes and checks
// every node it reaches the top of against a root of target or a node the
// verifier trusts. It returns the parent nodes computed and the given nodes
// used (all verified), and the pages' leaves.
func verifyRange(target *Head, known nodeLookup, rp *RangeProof, maxPage, maxPages int) ([]Node, []Node, error) {
	n := uint64(len(rp.Values))
	switch {
	case n == 0:
		return nil, nil, fmt.Errorf("%w: empty range proof", ErrVerify)
	case len(rp.Values) > maxPages:
		return nil, nil, fmt.Errorf("%w: range of %d pages, limit %d", ErrTooLarge, n, maxPages)
	case rp.Start >= target.Length || n > target.Length-rp.Start:
		return nil, nil, fmt.Errorf("%w: range [%d, %d) past length %d", ErrVerify, rp.Start, rp.Start+n, target.Length)
	case len(rp.Nodes) > maxRangeNodes:
		return nil, nil, fmt.Errorf("%w: range proof carries %d nodes", ErrVerify, len(rp.Nodes))
	}
	given := make(map[uint64]Node, len(rp.Nodes))
	for _, g := range rp.Nodes {
		if _, dup := given[g.Index]; dup || !within(g.Index, target.Length) {
			return nil, nil, fmt.Errorf("%w: range proof node %d is duplicated or outside the tree", ErrVerify, g.Index)
		}
		given[g.Index] = g
	}
	roots := make(map[uint64]Node, len(target.Roots))
	for _, r := range target.Roots {
		roots[r.Index] = r
	}
	leaves := make([]Node, n)
	level := make([]Node, n)
	for i, v := range rp.Values {
		if len(v) > maxPage {
			return nil, nil, fmt.Errorf("%w: page %d is %d bytes, limit %d", ErrTooLarge, rp.Start+uint64(i), len(v), maxPage)
		}
		leaves[i] = leafNode(rp.Start+uint64(i), v)
	}
	copy(level, leaves)
	// A tree over n leaves has fewer than n parents, plus at most two
	// per level from the given nodes: sized once, not grown.
	parents := make([]Node, 0, int(n)+len(rp.Nodes))
	var used []Node
	for len(level) > 0 {
		// Each node of the next level replaces one or two of this one's,
		// already read: it is written over them.
		next := level[:0]
		for i := 0; i < len(level); i++ {
			cur := level[i]
			if r, ok := roots[cur.Index]; ok {
				if r != cur {
					return nil, nil, fmt.Errorf("%w: range hashes to a root that differs from the signed one", ErrVerify)
				}
				continue
			}
			s := sibling(cur.Index)
			var sib Node
			switch {
			case s > cur.Index && i+1 < len(level) && level[i+1].Index == s:
				sib = level[i+1]
				i++
			case hasGiven(given, s):
				sib = given[s]
				used = append(used, sib)
				delete(given, s)
			default:
				// The top of this climb: it must be a node already trusted.
				if known == nil {
					return nil, nil, fmt.Errorf("%w: range stops at node %d, which nothing verified", ErrVerify, cur.Index)
				}
				k, ok := known(cur.Index)
				if !ok || k != cur {
					return nil, nil, fmt.Errorf("%w: range stops at node %d, which does not match a verified node", ErrVerify, cur.Index)
				}
				continue
			}
			var p Node
			if s < cur.Index {
				p = parentNode(sib, cur)
			} else {
				p = parentNode(cur, sib)
			}
			parents = append(parents, p)
			next = append(next, p)
		}
		level = next
	}
	if len(given) > 0 {
		return nil, nil, fmt.Errorf("%w: range proof carries %d unused nodes", ErrVerify, len(given))
	}
	return append(parents, used...), leaves, nil
}

func hasGiven(m map[uint64]Node, i uint64) bool { _, ok := m[i]; return ok }
