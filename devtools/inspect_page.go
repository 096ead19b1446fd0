package devtools

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/folio-p2p/folio/book"
)

// NodeInfo is a tree node in JSON output.
type NodeInfo struct {
	Index uint64 `json:"index"`
	Size  uint64 `json:"size"`
	Hash  string `json:"hash"`
}

func nodeInfo(n book.Node) NodeInfo {
	return NodeInfo{Index: n.Index, Size: n.Size, Hash: hex.EncodeToString(n.Hash[:])}
}

// HeadInfo is a signed head in JSON output.
type HeadInfo struct {
	Length     uint64     `json:"length"`
	ByteLength uint64     `json:"byte_length"`
	Fork       uint64     `json:"fork"`
	TreeHash   string     `json:"tree_hash"`
	Signature  string     `json:"signature"`
	Roots      []NodeInfo `json:"roots"`
}

func headInfo(h *book.Head) HeadInfo {
	hi := HeadInfo{Length: h.Length, ByteLength: h.ByteLength, Fork: h.Fork,
		TreeHash: hex.EncodeToString(h.TreeHash[:]), Signature: hex.EncodeToString(h.Signature[:]), Roots: []NodeInfo{}}
	for _, r := range h.Roots {
		hi.Roots = append(hi.Roots, nodeInfo(r))
	}
	return hi
}

// ProofStep is one level of a page's Merkle path: the sibling the proof
// carries and the parent hashed from it and the node below.
type ProofStep struct {
	Sibling NodeInfo `json:"sibling"`
	Parent  NodeInfo `json:"parent"`
}

// ProofReport is `page BOOK N --proof`: the page, its path up to a root
// and the signed head, with what was checked.
type ProofReport struct {
	Leaf     NodeInfo    `json:"leaf"`
	Steps    []ProofStep `json:"steps"`
	Root     NodeInfo    `json:"root"` // the root the path reaches
	Head     HeadInfo    `json:"head"` // the signed head it verifies against
	Checks   []string    `json:"checks"`
	Problems []string    `json:"problems"`
	Verified bool        `json:"verified"`
}

func (in *inspector) page(args []string) int {
	fs := in.flags("Page N of BOOK: its size, leaf hash and decoded content. With --proof, also\nits Merkle proof (the sibling nodes from the leaf up to a root) and the\nsigned head it verifies against; the proof is verified step by step and\nonce more by a fresh reader (book.ApplyProof). Exit 1 if it does not verify.")
	withProof := fs.Bool("proof", false, "show and verify the page's Merkle proof and signed head")
	full := fs.Bool("full", false, "print an undecoded page whole (default: its first 64 bytes)")
	pos, ok, code := in.parse(fs, args, 2, 2)
	if !ok {
		return code
	}
	n, err := strconv.ParseUint(pos[1], 10, 64)
	if err != nil {
		return in.usage("page number %q is not a number", pos[1])
	}
	e, snap, code := in.openSnapshot(pos[0])
	if e == nil {
		return code
	}
	defer snap.Close()
	data, err := snap.Get(n)
	if errors.Is(err, book.ErrNotFound) {
		return in.fail("page %d of %s is not stored here (the book has %d pages)", n, e.label(), snap.Length())
	}
	if err != nil {
		return in.fail("%v", err)
	}
	p := pageInfo(snap, e.kind, n, data)
	var rep *ProofReport
	if *withProof {
		if rep, err = in.proveCheck(e.info.Key, snap, n, data); err != nil {
			return in.fail("cannot prove page %d of %s here: %v", n, e.label(), err)
		}
	}
	if in.json {
		in.emit(struct {
			Book  BookRef      `json:"book"`
			Page  PageInfo     `json:"page"`
			Proof *ProofReport `json:"proof,omitempty"`
		}{bookRef(e, snap.Head()), p, rep})
	} else {
		in.printf("%s\n\n", bookLine(e, snap.Head()))
		writePage(in.stdout, p, *full)
		if rep != nil {
			in.printProof(rep)
		}
	}
	if rep != nil && !rep.Verified {
		return 1
	}
	return 0
}

// proveCheck builds the proof of page n with the signed head (an upgrade
// from length 0) and verifies it: by hashing up the path, against the
// head's roots and signature, and with a fresh reader.
func (in *inspector) proveCheck(key ed25519.PublicKey, snap *book.Snapshot, n uint64, data []byte) (*ProofReport, error) {
	p, err := snap.Proof(book.ProofRequest{Page: &book.PageRequest{Index: n}, Upgrade: &book.UpgradeRequest{Start: 0}})
	if err != nil {
		return nil, err
	}
	rep := &ProofReport{Steps: []ProofStep{}, Checks: []string{}, Problems: []string{}}
	check := func(ok bool, what string) {
		if ok {
			rep.Checks = append(rep.Checks, what)
		} else {
			rep.Problems = append(rep.Problems, what)
		}
	}
	h := headOf(p)
	rep.Head = headInfo(h)
	cur := book.Node{Index: 2 * n, Size: uint64(len(p.Page.Value)), Hash: book.LeafHash(p.Page.Value)}
	rep.Leaf = nodeInfo(cur)
	check(bytes.Equal(p.Page.Value, data), "the proof carries the stored page bytes")
	for _, s := range p.Page.Nodes {
		if s.Index != book.NodeSibling(cur.Index) {
			check(false, fmt.Sprintf("proof node %d is not the sibling of node %d", s.Index, cur.Index))
			break
		}
		left, right := cur, s
		if s.Index < cur.Index {
			left, right = s, cur
		}
		cur = book.Node{Index: book.NodeParent(cur.Index), Size: left.Size + right.Size, Hash: book.ParentHash(left, right)}
		rep.Steps = append(rep.Steps, ProofStep{Sibling: nodeInfo(s), Parent: nodeInfo(cur)})
	}
	rep.Root = nodeInfo(cur)
	root := -1
	for i, r := range h.Roots {
		if r == cur {
			root = i
		}
	}
	check(root >= 0, fmt.Sprintf("the path hashes to node %d, a root of the signed head", cur.Index))
	err = h.Verify(key)
	check(err == nil, "the head's tree hash matches its roots and its signature verifies under the book key"+errSuffix(err))
	err = freshReaderAccepts(in.ctx, key, p, n)
	check(err == nil, "a fresh reader holding only the key accepts the proof (book.ApplyProof)"+errSuffix(err))
	rep.Verified = len(rep.Problems) == 0
	return rep, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// headOf rebuilds the signed head an upgrade proof from 0 carries.
func headOf(p *book.Proof) *book.Head {
	u := p.Upgrade
	h := &book.Head{Fork: p.Fork, Length: u.Length, Signature: u.Signature, Roots: u.Roots, TreeHash: book.TreeHash(u.Roots)}
	for _, r := range u.Roots {
		h.ByteLength += r.Size
	}
	return h
}

// freshReaderAccepts applies p to a new read-only book in memory, which
// knows nothing but key, and reads page n back.
func freshReaderAccepts(ctx context.Context, key ed25519.PublicKey, p *book.Proof, n uint64) error {
	pdb, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: quiet{}})
	if err != nil {
		return err
	}
	defer pdb.Close()
	r, err := book.Open(pdb, []byte("r"), key, nil, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.ApplyProof(ctx, p); err != nil {
		return err
	}
	got, err := r.Get(ctx, n, &book.GetOptions{LocalOnly: true})
	if err != nil {
		return err
	}
	if !bytes.Equal(got, p.Page.Value) {
		return fmt.Errorf("the reader stored other bytes")
	}
	return nil
}

func (in *inspector) printProof(rep *ProofReport) {
	in.printf("\nproof, from the leaf up:\n")
	in.printf("  leaf    node %-4d size %-6d %s\n", rep.Leaf.Index, rep.Leaf.Size, rep.Leaf.Hash)
	for _, s := range rep.Steps {
		in.printf("  + node  %-4d size %-6d %s  (sibling, from the proof)\n", s.Sibling.Index, s.Sibling.Size, s.Sibling.Hash)
		in.printf("  = node  %-4d size %-6d %s\n", s.Parent.Index, s.Parent.Size, s.Parent.Hash)
	}
	h := rep.Head
	in.printf("\nsigned head: length %d, %d bytes, fork %d\n", h.Length, h.ByteLength, h.Fork)
	for i, r := range h.Roots {
		mark := ""
		if r == rep.Root {
			mark = "  <- reached"
		}
		in.printf("  root %d  node %-4d size %-6d %s%s\n", i, r.Index, r.Size, r.Hash, mark)
	}
	in.printf("  tree hash  %s\n  signature  %s\n\n", h.TreeHash, h.Signature)
	for _, c := range rep.Checks {
		in.printf("ok    %s\n", c)
	}
	for _, p := range rep.Problems {
		in.printf("FAIL  %s\n", p)
	}
	if rep.Verified {
		in.printf("\nverified: the page is part of the book its key names\n")
	} else {
		in.printf("\nNOT VERIFIED\n")
	}
}
