package book

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"math/bits"
	"os"
	"path/filepath"
	"testing"
)

// vectorFile is one book from testdata/vectors/hypercore (see its README).
type vectorFile struct {
	Name         string       `json:"name"`
	Seed         string       `json:"seed"`
	PublicKey    string       `json:"publicKey"`
	DiscoveryKey string       `json:"discoveryKey"`
	Steps        []vectorStep `json:"steps"`
	// Nodes is every node of the final tree, or, when NodeCount is set, a
	// sample of them and NodesDigest over all NodeCount.
	Nodes       []vectorNode `json:"nodes"`
	NodeCount   uint64       `json:"nodeCount"`
	NodesDigest string       `json:"nodesDigest"`
}

type vectorStep struct {
	Op     string      `json:"op"`
	Blocks []string    `json:"blocks"`
	Fill   *vectorFill `json:"fill"`
	Length uint64      `json:"length"`
	After  struct {
		Length     uint64       `json:"length"`
		ByteLength uint64       `json:"byteLength"`
		Fork       uint64       `json:"fork"`
		TreeHash   string       `json:"treeHash"`
		Roots      []vectorNode `json:"roots"`
		Signable   string       `json:"signable"`
		Signature  string       `json:"signature"`
	} `json:"after"`
}

type vectorNode struct {
	Index uint64 `json:"index"`
	Size  uint64 `json:"size"`
	Hash  string `json:"hash"`
}

// vectorsDir is the repository's testdata/vectors/hypercore, or
// $FOLIO_VECTORS.
func vectorsDir() string {
	if d := os.Getenv("FOLIO_VECTORS"); d != "" {
		return d
	}
	return filepath.Join("..", "testdata", "vectors", "hypercore")
}

func TestHypercoreVectors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(vectorsDir(), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no vector files in %s (set FOLIO_VECTORS to the directory)", vectorsDir())
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vectorFile
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := replayVector(t, filepath.Base(f), &v)
		t.Logf("%s: %d steps checked", filepath.Base(f), n)
	}
}

func replayVector(t *testing.T, name string, v *vectorFile) int {
	ctx := context.Background()
	sk := ed25519.NewKeyFromSeed(unhex(t, v.Seed))
	pk := sk.Public().(ed25519.PublicKey)
	if got := hex.EncodeToString(pk); got != v.PublicKey {
		t.Fatalf("%s: public key %s, want %s", name, got, v.PublicKey)
	}
	if dk := DiscoveryKey(pk); hex.EncodeToString(dk[:]) != v.DiscoveryKey {
		t.Fatalf("%s: discovery key %x, want %s", name, dk, v.DiscoveryKey)
	}
	b, err := Open(openPebble(t), []byte("v"), pk, sk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i, s := range v.Steps {
		switch s.Op {
		case "append":
			pages := stepPages(t, name, i, &s)
			res, err := b.Append(ctx, pages...)
			if err != nil {
				t.Fatalf("%s step %d: append: %v", name, i, err)
			}
			if res.Length != s.After.Length || res.ByteLength != s.After.ByteLength {
				t.Fatalf("%s step %d: append returned %+v", name, i, res)
			}
		case "truncate":
			if err := b.Truncate(ctx, s.Length); err != nil {
				t.Fatalf("%s step %d: truncate: %v", name, i, err)
			}
		default:
			t.Fatalf("%s step %d: unknown op %q", name, i, s.Op)
		}
		checkStep(t, name, i, b, &s)
	}
	checkNodes(t, name, b, v)
	if rep, err := b.Audit(ctx); err != nil || !rep.OK() {
		t.Fatalf("%s: audit: %v %v", name, err, rep.Problems)
	}
	return len(v.Steps)
}

// stepPages are an append step's blocks, given as hex or as a fill.
func stepPages(t *testing.T, name string, i int, s *vectorStep) [][]byte {
	t.Helper()
	if (s.Fill == nil) == (s.Blocks == nil) {
		t.Fatalf("%s step %d: an append needs exactly one of blocks and fill", name, i)
	}
	if s.Fill != nil {
		pages, err := s.Fill.pages()
		if err != nil {
			t.Fatalf("%s step %d: %v", name, i, err)
		}
		return pages
	}
	pages := make([][]byte, len(s.Blocks))
	for j, blk := range s.Blocks {
		pages[j] = unhex(t, blk)
	}
	return pages
}

func checkStep(t *testing.T, name string, i int, b *Book, s *vectorStep) {
	t.Helper()
	h, _ := b.Head()
	a := &s.After
	if h.Length != a.Length || h.ByteLength != a.ByteLength || h.Fork != a.Fork {
		t.Fatalf("%s step %d: length/bytes/fork %d/%d/%d, want %d/%d/%d", name, i,
			h.Length, h.ByteLength, h.Fork, a.Length, a.ByteLength, a.Fork)
	}
	if got := hex.EncodeToString(h.TreeHash[:]); got != a.TreeHash {
		t.Fatalf("%s step %d: tree hash %s, want %s", name, i, got, a.TreeHash)
	}
	if len(h.Roots) != len(a.Roots) {
		t.Fatalf("%s step %d: %d roots, want %d", name, i, len(h.Roots), len(a.Roots))
	}
	for j, r := range a.Roots {
		checkNode(t, name, h.Roots[j], r)
	}
	sig := h.Signable()
	if got := hex.EncodeToString(sig[:]); got != a.Signable {
		t.Fatalf("%s step %d: signable %s, want %s", name, i, got, a.Signable)
	}
	if got := hex.EncodeToString(h.Signature[:]); got != a.Signature {
		t.Fatalf("%s step %d: signature %s, want %s", name, i, got, a.Signature)
	}
}

// checkNodes compares the final tree with the vector's nodes: all of them,
// or the digest over all of them and each node of the sample.
func checkNodes(t *testing.T, name string, b *Book, v *vectorFile) {
	t.Helper()
	count := 2*b.Length() - uint64(bits.OnesCount64(b.Length()))
	if v.NodeCount == 0 && uint64(len(v.Nodes)) != count {
		t.Fatalf("%s: vector lists %d nodes, tree has %d", name, len(v.Nodes), count)
	}
	if v.NodeCount != 0 {
		if v.NodeCount != count {
			t.Fatalf("%s: vector counts %d nodes, tree has %d", name, v.NodeCount, count)
		}
		all := make([]Node, 0, count)
		for i := uint64(0); i < 2*b.Length(); i++ {
			if !within(i, b.Length()) {
				continue
			}
			n, err := getNode(b.pdb, b.keys, i)
			if err != nil {
				t.Fatalf("%s: node %d: %v", name, i, err)
			}
			all = append(all, n)
		}
		if got := nodesDigest(all); uint64(len(all)) != count || got != v.NodesDigest {
			t.Fatalf("%s: %d nodes with digest %s, want %d with %s", name, len(all), got, count, v.NodesDigest)
		}
	}
	for _, vn := range v.Nodes {
		n, err := getNode(b.pdb, b.keys, vn.Index)
		if err != nil {
			t.Fatalf("%s: node %d: %v", name, vn.Index, err)
		}
		checkNode(t, name, n, vn)
	}
}

func checkNode(t *testing.T, name string, got Node, want vectorNode) {
	t.Helper()
	if got.Index != want.Index || got.Size != want.Size || !bytes.Equal(got.Hash[:], unhex(t, want.Hash)) {
		t.Fatalf("%s: %v, want index %d size %d hash %s", name, got, want.Index, want.Size, want.Hash)
	}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
