package devtools

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/folio-p2p/folio/book"
)

// maxTreePages bounds the pages one tree picture covers.
const maxTreePages = 256

// Node states in a tree picture.
const (
	nodeStored   = "stored"    // its record is held here
	nodeHashOnly = "hash-only" // a leaf whose hash is held, not its page
	nodeMissing  = "missing"   // not held here
)

// TreeNode is one node of a book's Merkle tree as held here.
type TreeNode struct {
	Index     uint64 `json:"index"`
	Depth     uint64 `json:"depth"`
	FirstPage uint64 `json:"first_page"`
	LastPage  uint64 `json:"last_page"`
	Root      bool   `json:"root"`
	State     string `json:"state"`          // stored, hash-only or missing
	Size      uint64 `json:"size,omitempty"` // byte size of its span, when known
	Hash      string `json:"hash,omitempty"` // when known (held, or a root of the head)
}

// TreeInfo is the part of a book's tree between two pages.
type TreeInfo struct {
	Book  BookRef     `json:"book"`
	From  uint64      `json:"from"` // first page drawn
	To    uint64      `json:"to"`   // last page drawn
	Roots []uint64    `json:"roots"`
	Spans []PageRange `json:"spans"` // runs of pages stored here (in [From, To])
	Nodes []TreeNode  `json:"nodes"` // in index order
}

func (in *inspector) tree(args []string) int {
	fs := in.flags(fmt.Sprintf("The Merkle tree of BOOK as Graphviz DOT (render it with dot -Tpng) or as an\nSVG picture folio draws itself: its roots, the spans of pages stored here,\nand which nodes are stored and which are missing. At most %d pages are\ndrawn at once: pick them with --from and --to. --json prints the nodes.", maxTreePages))
	format := fs.String("format", "dot", "dot or svg")
	from := fs.Uint64("from", 0, "first page to draw")
	to := fs.Int64("to", -1, "last page to draw, inclusive (default: the last page)")
	pos, ok, code := in.parse(fs, args, 1, 1)
	if !ok {
		return code
	}
	if *format != "dot" && *format != "svg" {
		return in.usage("--format is dot or svg, not %q", *format)
	}
	e, snap, code := in.openSnapshot(pos[0])
	if e == nil {
		return code
	}
	defer snap.Close()
	length := snap.Length()
	if length == 0 {
		return in.fail("book %s has no pages: there is no tree to draw", e.label())
	}
	last := length - 1
	if *to >= 0 && uint64(*to) < last {
		last = uint64(*to)
	}
	switch {
	case *from > last:
		return in.usage("--from %d is past the last page drawn (%d)", *from, last)
	case last-*from >= maxTreePages:
		return in.usage("%s has %d pages; draw at most %d at once: pick them with --from and --to", e.label(), length, maxTreePages)
	}
	t, err := buildTree(snap, *from, last)
	if err != nil {
		return in.fail("read the tree of %s: %v", e.label(), err)
	}
	t.Book = bookRef(e, snap.Head())
	switch {
	case in.json:
		in.emit(t)
	case *format == "svg":
		writeSVG(in.stdout, t, e.label())
	default:
		writeDOT(in.stdout, t, e.label())
	}
	return 0
}

// buildTree reads the nodes whose span meets pages [from, to].
func buildTree(snap *book.Snapshot, from, to uint64) (*TreeInfo, error) {
	h := snap.Head()
	t := &TreeInfo{From: from, To: to, Roots: book.Roots(h.Length), Spans: []PageRange{}}
	heads := map[uint64]book.Node{}
	for _, r := range h.Roots {
		heads[r.Index] = r
	}
	var visit func(i uint64) error
	visit = func(i uint64) error {
		first, last := book.NodePages(i)
		if last < from || first > to {
			return nil
		}
		n, err := treeNode(snap, i, heads)
		if err != nil {
			return err
		}
		t.Nodes = append(t.Nodes, n)
		if l, r, ok := book.NodeChildren(i); ok {
			if err := visit(l); err != nil {
				return err
			}
			return visit(r)
		}
		return nil
	}
	for _, r := range t.Roots {
		if err := visit(r); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(t.Nodes, func(a, b TreeNode) int { return cmp.Compare(a.Index, b.Index) })
	for _, n := range t.Nodes {
		if n.Depth > 0 || n.State != nodeStored {
			continue
		}
		if k := len(t.Spans); k > 0 && t.Spans[k-1].To+1 == n.FirstPage {
			t.Spans[k-1].To++
		} else {
			t.Spans = append(t.Spans, PageRange{n.FirstPage, n.FirstPage})
		}
	}
	return t, nil
}

// treeNode reads node i: held, a leaf held as a hash only, or missing
// (a root's size and hash still come from the signed head).
func treeNode(snap *book.Snapshot, i uint64, heads map[uint64]book.Node) (TreeNode, error) {
	first, last := book.NodePages(i)
	root, isRoot := heads[i]
	tn := TreeNode{Index: i, Depth: book.NodeDepth(i), FirstPage: first, LastPage: last, Root: isRoot, State: nodeMissing}
	n, err := snap.Node(i)
	switch {
	case err == nil:
		tn.State, tn.Size, tn.Hash = nodeStored, n.Size, hex.EncodeToString(n.Hash[:])
		if tn.Depth == 0 {
			if held, err := snap.Has(first); err != nil {
				return tn, err
			} else if !held {
				tn.State = nodeHashOnly
			}
		}
	case errors.Is(err, book.ErrNotFound):
		if isRoot {
			tn.Size, tn.Hash = root.Size, hex.EncodeToString(root.Hash[:])
		}
	default:
		return tn, err
	}
	return tn, nil
}

// label is a node's caption: its index, the pages it covers, its size and
// the start of its hash.
func (n TreeNode) label() []string {
	var lines []string
	if n.Depth == 0 {
		lines = append(lines, fmt.Sprintf("page %d", n.FirstPage))
	} else {
		lines = append(lines, fmt.Sprintf("node %d", n.Index), fmt.Sprintf("pages %d-%d", n.FirstPage, n.LastPage))
	}
	if n.Hash != "" {
		lines = append(lines, fmt.Sprintf("%d B", n.Size), n.Hash[:8])
	} else {
		lines = append(lines, "missing")
	}
	return lines
}

// writeDOT prints the tree as a Graphviz digraph.
func writeDOT(w io.Writer, t *TreeInfo, title string) {
	fmt.Fprintf(w, "digraph book {\n")
	fmt.Fprintf(w, "  // book %s, key %s: %d pages, fork %d; pages %d to %d drawn\n", title, t.Book.Key, t.Book.Length, t.Book.Fork, t.From, t.To)
	capHead, capBody := treeCaption(t, title)
	fmt.Fprintf(w, "  graph [label=%s, labelloc=t, fontname=\"monospace\"];\n", dotQuote(capHead+"\n"+capBody))
	fmt.Fprintf(w, "  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\", fontsize=10];\n")
	var leaves []string
	for _, n := range t.Nodes {
		attrs := []string{"label=" + dotQuote(strings.Join(n.label(), "\n"))}
		switch n.State {
		case nodeStored:
			attrs = append(attrs, `fillcolor="#b7e1a1"`)
		case nodeHashOnly:
			attrs = append(attrs, `fillcolor="#fff3b0"`)
		default:
			attrs = append(attrs, `fillcolor="white"`, `style="rounded,dashed"`, `fontcolor="gray40"`)
		}
		if n.Root {
			attrs = append(attrs, "penwidth=3", "peripheries=2")
		}
		fmt.Fprintf(w, "  n%d [%s];\n", n.Index, strings.Join(attrs, ", "))
		if n.Depth == 0 {
			leaves = append(leaves, fmt.Sprintf("n%d", n.Index))
		}
	}
	drawn := map[uint64]bool{}
	for _, n := range t.Nodes {
		drawn[n.Index] = true
	}
	for _, n := range t.Nodes {
		if l, r, ok := book.NodeChildren(n.Index); ok {
			for _, c := range []uint64{l, r} {
				if drawn[c] {
					fmt.Fprintf(w, "  n%d -> n%d;\n", n.Index, c)
				}
			}
		}
	}
	if len(leaves) > 1 {
		fmt.Fprintf(w, "  { rank=same; %s; }\n", strings.Join(leaves, "; "))
	}
	fmt.Fprintf(w, "}\n")
}

// treeCaption sums up a tree picture: the book, then what is drawn.
func treeCaption(t *TreeInfo, title string) (book, drawn string) {
	stored, missing := 0, 0
	for _, n := range t.Nodes {
		if n.State == nodeMissing {
			missing++
		} else {
			stored++
		}
	}
	var spans []string
	for _, s := range t.Spans {
		if s.From == s.To {
			spans = append(spans, fmt.Sprint(s.From))
		} else {
			spans = append(spans, fmt.Sprintf("%d-%d", s.From, s.To))
		}
	}
	if len(spans) == 0 {
		spans = []string{"none"}
	}
	return fmt.Sprintf("%s: %d pages, fork %d", title, t.Book.Length, t.Book.Fork),
		fmt.Sprintf("pages %d-%d drawn: %d nodes stored, %d missing; pages held: %s", t.From, t.To, stored, missing, strings.Join(spans, ", "))
}

// dotQuote quotes s as a DOT string.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
