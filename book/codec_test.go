package book

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func fill32(b byte) (h [32]byte) {
	for i := range h {
		h[i] = b
	}
	return h
}

// goldenProof is a small fixed proof: page 5 ("hi!") of a 6-page book and
// the upgrade from length 3 to 6. Its hashes and signature are patterns,
// not real values: this pins the encoding, not the cryptography.
func goldenProof() *Proof {
	var sig [64]byte
	for i := range sig {
		sig[i] = 0x55
	}
	return &Proof{
		Fork: 2,
		Page: &PageProof{Index: 5, Value: []byte("hi!"), Nodes: []Node{
			{Index: 8, Size: 4, Hash: fill32(0x11)},
		}},
		Upgrade: &UpgradeProof{Start: 3, Length: 6, Signature: sig,
			Roots: []Node{
				{Index: 3, Size: 10, Hash: fill32(0x22)},
				{Index: 9, Size: 7, Hash: fill32(0x33)},
			},
			Nodes: []Node{{Index: 6, Size: 2, Hash: fill32(0x44)}},
		},
	}
}

// goldenProofHex is goldenProof's wire form, one field a line.
const goldenProofHex = `
01                                   // version 1
03                                   // flags: page (bit 0) | upgrade (bit 1)
0200000000000000                     // fork 2
                                     // page:
0500000000000000                     //   index 5
03000000                             //   value length 3 (u32)
686921                               //   value "hi!"
01                                   //   1 path node
0800000000000000                     //     index 8 (sibling of leaf 10)
0400000000000000                     //     size 4
1111111111111111111111111111111111111111111111111111111111111111 // hash
                                     // upgrade:
0300000000000000                     //   start 3
0600000000000000                     //   length 6
55555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555 // signature
02                                   //   2 roots
0300000000000000                     //     index 3 (pages 0-3)
0a00000000000000                     //     size 10
2222222222222222222222222222222222222222222222222222222222222222 // hash
0900000000000000                     //     index 9 (pages 4-5)
0700000000000000                     //     size 7
3333333333333333333333333333333333333333333333333333333333333333 // hash
01                                   //   1 link node
0600000000000000                     //     index 6 (page 3, new since 3)
0200000000000000                     //     size 2
4444444444444444444444444444444444444444444444444444444444444444 // hash
`

// parseCommentedHex decodes hex where "//" starts a comment to the end of
// the line and whitespace is ignored.
func parseCommentedHex(t *testing.T, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProofGolden(t *testing.T) {
	want := parseCommentedHex(t, goldenProofHex)
	got, err := goldenProof().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding changed:\n got %x\nwant %x", got, want)
	}
	var p Proof
	if err := p.UnmarshalBinary(want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&p, goldenProof()) {
		t.Fatalf("decoded %+v, want %+v", p, goldenProof())
	}
}

func TestProofRoundTrip(t *testing.T) {
	g := goldenProof()
	many := make([]Node, maxProofNodes)
	for i := range many {
		many[i] = Node{Index: uint64(i), Size: uint64(i) << 40, Hash: fill32(byte(i))}
	}
	for name, p := range map[string]*Proof{
		"empty":        {Fork: 7},
		"page only":    {Fork: 1, Page: g.Page},
		"upgrade only": {Upgrade: g.Upgrade},
		"both":         g,
		"empty value":  {Page: &PageProof{Index: 1 << 63, Nodes: g.Page.Nodes}},
		"at limits": {Fork: ^uint64(0), Page: &PageProof{Index: ^uint64(0), Value: make([]byte, 1000), Nodes: many[:maxRoots]},
			Upgrade: &UpgradeProof{Start: ^uint64(0), Length: ^uint64(0), Roots: many[:maxRoots], Nodes: many}},
	} {
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(b) != p.encodedSize() {
			t.Errorf("%s: %d bytes, encodedSize says %d", name, len(b), p.encodedSize())
		}
		var q Proof
		if err := q.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(&q, p) {
			t.Errorf("%s: decoded %+v, want %+v", name, q, *p)
		}
		if b2, _ := q.MarshalBinary(); !bytes.Equal(b2, b) {
			t.Errorf("%s: re-encoding differs", name)
		}
	}
}

// TestProofUnmarshalCopies checks the decoded value does not alias the input.
func TestProofUnmarshalCopies(t *testing.T) {
	b, _ := goldenProof().MarshalBinary()
	var p Proof
	if err := p.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if string(p.Page.Value) != "hi!" {
		t.Fatalf("value changed with the input: %q", p.Page.Value)
	}
}

func TestProofUnmarshalTruncated(t *testing.T) {
	b, _ := goldenProof().MarshalBinary()
	for n := range len(b) {
		p := Proof{Fork: 99}
		if err := p.UnmarshalBinary(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%d of %d bytes: err %v, want ErrCorrupt", n, len(b), err)
		}
		if p.Fork != 99 || p.Page != nil || p.Upgrade != nil {
			t.Fatalf("%d bytes: failed decode changed the proof: %+v", n, p)
		}
	}
}

func TestProofUnmarshalErrors(t *testing.T) {
	golden, _ := goldenProof().MarshalBinary()
	const valueLen = proofHeaderSize + 8 // offset of the page value length
	const pathCount = valueLen + 4 + 3   // offset of the path node count
	linkCount := len(golden) - 1 - proofNodeSize
	if golden[pathCount] != 1 || golden[linkCount] != 1 {
		t.Fatal("offsets do not point at the node counts")
	}
	edit := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), golden...))
	}
	for name, b := range map[string][]byte{
		"nil":             nil,
		"trailing":        append(append([]byte(nil), golden...), 0),
		"version 0":       edit(func(b []byte) []byte { b[0] = 0; return b }),
		"version 2":       edit(func(b []byte) []byte { b[0] = 2; return b }),
		"flag bit 2":      edit(func(b []byte) []byte { b[1] |= 4; return b }),
		"flag bit 7":      edit(func(b []byte) []byte { b[1] |= 0x80; return b }),
		"no page flag":    edit(func(b []byte) []byte { b[1] = proofFlagUpgrade; return b }),
		"no upgrade flag": edit(func(b []byte) []byte { b[1] = proofFlagPage; return b }),
		"value past end": edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[valueLen:], uint32(len(b)))
			return b
		}),
		"value over 1 GiB": edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[valueLen:], maxProofValue+1)
			return b
		}),
		"value 4 GiB-1": edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[valueLen:], ^uint32(0))
			return b
		}),
		"path of 65 nodes": edit(func(b []byte) []byte {
			b[pathCount] = maxRoots + 1
			return append(b, make([]byte, 64*proofNodeSize)...)
		}),
		"129 link nodes": edit(func(b []byte) []byte {
			b[linkCount] = maxProofNodes + 1
			return append(b, make([]byte, maxProofNodes*proofNodeSize)...)
		}),
		"255 link nodes":   edit(func(b []byte) []byte { b[linkCount] = 255; return b }),
		"link count short": edit(func(b []byte) []byte { b[linkCount] = 2; return b }),
		"link count long":  edit(func(b []byte) []byte { b[linkCount] = 0; return b }),
	} {
		var p Proof
		if err := p.UnmarshalBinary(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
}

func TestProofMarshalTooLarge(t *testing.T) {
	nodes := make([]Node, maxProofNodes+1)
	for name, p := range map[string]*Proof{
		"path":  {Page: &PageProof{Nodes: nodes[:maxRoots+1]}},
		"roots": {Upgrade: &UpgradeProof{Roots: nodes[:maxRoots+1]}},
		"links": {Upgrade: &UpgradeProof{Nodes: nodes}},
	} {
		if _, err := p.MarshalBinary(); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err %v, want ErrTooLarge", name, err)
		}
	}
}

// TestProofWireApply sends real proofs through the codec to a reader.
func TestProofWireApply(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w", 1, nil)
	r := newReader(t, pdb, "r", w.Key(), nil)
	for i := range 20 {
		if _, err := w.Append(ctx, bytes.Repeat([]byte{byte(i)}, i)); err != nil {
			t.Fatal(err)
		}
		req := ProofRequest{Page: &PageRequest{Index: uint64(i)}, Upgrade: &UpgradeRequest{Start: r.Length()}}
		if n, err := r.MissingNodes(uint64(i)); err == nil {
			req.Page.Nodes = n
		}
		p, err := w.Proof(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var q Proof
		if err := q.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if err := r.ApplyProof(ctx, &q); err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		got, err := r.Get(ctx, uint64(i), &GetOptions{LocalOnly: true})
		if err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte(i)}, i)) {
			t.Fatalf("page %d: %q, %v", i, got, err)
		}
	}
}
