package book

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Proof proves pages and heads of a book to someone who holds only its key
// and whatever they verified before. A proof carries either part or both.
type Proof struct {
	Fork    uint64        // the prover's fork
	Page    *PageProof    // one page and its Merkle path
	Range   *RangeProof   // or a run of pages and the nodes proving them
	Upgrade *UpgradeProof // a signed head newer than the verifier's
}

// PageProof is a page with the sibling nodes from its leaf upward, until a
// node the verifier already trusts (a root, or a node it stored).
type PageProof struct {
	Index uint64
	Value []byte
	Nodes []Node
}

// UpgradeProof is the prover's signed head at Length, with the nodes that
// link it to the verifier's head at Start in the same fork: the maximal
// subtrees of [Start, Length) inside roots that also cover older pages.
type UpgradeProof struct {
	Start     uint64
	Length    uint64
	Roots     []Node
	Nodes     []Node
	Signature [64]byte
}

// ProofRequest says what the verifier wants proven.
type ProofRequest struct {
	Page    *PageRequest
	Range   *RangeRequest
	Upgrade *UpgradeRequest
}

// PageRequest asks for page Index with at most Nodes path nodes
// (the verifier's MissingNodes); 0 means every node up to the root.
type PageRequest struct {
	Index uint64
	Nodes int
}

// UpgradeRequest asks for the prover's head, linked from the verifier's
// length Start.
type UpgradeRequest struct {
	Start uint64
}

// Proof builds a proof from the book's current state. Any book can prove
// what it stores: a relay proves with the author's signature, never its own.
func (b *Book) Proof(req ProofRequest) (*Proof, error) {
	return b.proof(req, nil)
}

// ProofInto is Proof for a caller that encodes the proof at once and then
// drops it (a replication answer): the range's pages are appended to
// arena[:0] and alias it, instead of one allocation per page. It returns
// the arena, grown as needed, for the next call; the proof's pages are
// valid until the arena is reused.
func (b *Book) ProofInto(req ProofRequest, arena []byte) (*Proof, []byte, error) {
	arena = arena[:0]
	p, err := b.proof(req, &arena)
	return p, arena, err
}

func (b *Book) proof(req ProofRequest, arena *[]byte) (*Proof, error) {
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	s := b.state.Load()
	if !s.signed {
		return nil, fmt.Errorf("book %s: %w: nothing signed yet", b.name, ErrNotFound)
	}
	return buildProof(b.pdb, b.keys, s.head, s.recent, req, arena)
}

// buildProof builds the proof of req at head h from r; rc (may be nil)
// holds nodes of h's append, which need not be read (recent.go).
func buildProof(r pebble.Reader, k keys, h *Head, rc *recentNodes, req ProofRequest, arena *[]byte) (*Proof, error) {
	p := &Proof{Fork: h.Fork}
	if req.Page != nil {
		pp, err := buildPageProof(r, k, h, rc, *req.Page)
		if err != nil {
			return nil, err
		}
		p.Page = pp
	}
	if req.Range != nil {
		rp, err := buildRange(r, k, h, rc, *req.Range, arena)
		if err != nil {
			return nil, err
		}
		p.Range = rp
	}
	if req.Upgrade != nil {
		up, err := buildUpgrade(r, k, h, rc, req.Upgrade.Start)
		if err != nil {
			return nil, err
		}
		p.Upgrade = up
	}
	return p, nil
}

func buildPageProof(r pebble.Reader, k keys, h *Head, rc *recentNodes, req PageRequest) (*PageProof, error) {
	value, err := getPage(r, k, req.Index, h.Length)
	if err != nil {
		return nil, fmt.Errorf("prove page %d: %w", req.Index, err)
	}
	pp := &PageProof{Index: req.Index, Value: value}
	roots := rootSet(h.Length)
	for n := 2 * req.Index; !roots[n]; n = parent(n) {
		if req.Nodes > 0 && len(pp.Nodes) == req.Nodes {
			break
		}
		s, err := rc.node(r, k, sibling(n))
		if err != nil {
			return nil, fmt.Errorf("prove page %d: %w", req.Index, err)
		}
		pp.Nodes = append(pp.Nodes, s)
	}
	return pp, nil
}

func buildUpgrade(r pebble.Reader, k keys, h *Head, rc *recentNodes, start uint64) (*UpgradeProof, error) {
	if start > h.Length {
		return nil, fmt.Errorf("%w: upgrade from %d, length is %d", ErrOutOfRange, start, h.Length)
	}
	up := &UpgradeProof{Start: start, Length: h.Length, Roots: append([]Node(nil), h.Roots...), Signature: h.Signature}
	for _, idx := range upgradeNodes(start, h.Length) {
		n, err := rc.node(r, k, idx)
		if err != nil {
			return nil, fmt.Errorf("prove upgrade %d→%d: %w", start, h.Length, err)
		}
		up.Nodes = append(up.Nodes, n)
	}
	return up, nil
}

// upgradeNodes lists, in order, the nodes an upgrade from start to length
// carries besides the roots: inside each root of length that covers pages
// both before and after start, the maximal subtrees of new pages.
func upgradeNodes(start, length uint64) []uint64 {
	old := rootSet(start)
	var out []uint64
	var visit func(n uint64)
	visit = func(n uint64) {
		switch {
		case old[n]:
		case leftSpan(n)/2 >= start:
			out = append(out, n)
		default:
			l, r, _ := children(n)
			visit(l)
			visit(r)
		}
	}
	for _, root := range fullRoots(length) {
		if leftSpan(root)/2 < start && rightSpan(root)/2 >= start && !old[root] {
			visit(root)
		}
	}
	return out
}

// rootSet returns the roots of a tree of length pages as a set.
func rootSet(length uint64) map[uint64]bool {
	m := make(map[uint64]bool, 8)
	for _, r := range fullRoots(length) {
		m[r] = true
	}
	return m
}

// MissingNodes returns how many path nodes a proof of page i must carry for
// this book to verify it: up to the first ancestor stored here, or 0 (up to
// the root) when none is.
func (b *Book) MissingNodes(i uint64) (int, error) {
	if err := b.checkOpen(); err != nil {
		return 0, err
	}
	h := b.state.Load().head
	if i >= h.Length {
		return 0, nil
	}
	roots := rootSet(h.Length)
	count := 0
	for n := 2 * i; !roots[n]; {
		n = parent(n)
		count++
		if _, err := getNode(b.pdb, b.keys, n); err == nil {
			return count, nil
		}
	}
	return 0, nil
}
