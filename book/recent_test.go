package book

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// countingReader counts the point reads (Gets) of nodes made through it:
// those of other records than pages (a leaf node is read from its page
// record too, but a push reads its pages anyway).
type countingReader struct {
	pebble.Reader
	pages []byte // the key prefix of page records
	gets  int
}

func (c *countingReader) Get(key []byte) ([]byte, io.Closer, error) {
	if !bytes.HasPrefix(key, c.pages) {
		c.gets++
	}
	return c.Reader.Get(key)
}

// The proof a session pushes after an append (an upgrade from the old
// length with the new pages) is built from the nodes the append had in
// hand: no node is read back from Pebble, and the proof is the one built
// from Pebble alone, which a follower at the old length accepts.
func TestPushProofReadsNoNodes(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w", 1, &Options{NoSync: true})
	r := newReader(t, pdb, "r", w.Key(), nil)
	sizes := []int{1, 1, 1, 2, 1, 3, 5, 1, 8, 1, 1, 64, 1, 7, 1, 1, 16, 2, 1, 33, 1}
	for step := 0; w.Length() < 700; step++ {
		n := sizes[step%len(sizes)]
		pages := make([][]byte, n)
		for i := range pages {
			pages[i] = []byte(fmt.Sprintf("page %d of step %d", i, step))
		}
		start := w.Length()
		if _, err := w.Append(ctx, pages...); err != nil {
			t.Fatal(err)
		}
		s := w.state.Load()
		if s.recent == nil {
			t.Fatalf("append of %d pages at %d kept no nodes", n, start)
		}
		req := ProofRequest{Upgrade: &UpgradeRequest{Start: start}, Range: &RangeRequest{Start: start, End: s.head.Length}}
		pageKeys, _ := w.keys.span(tagPage)
		cr := &countingReader{Reader: pdb, pages: pageKeys}
		got, err := buildProof(cr, w.keys, s.head, s.recent, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cr.gets != 0 {
			t.Fatalf("push %d→%d read %d nodes from Pebble", start, s.head.Length, cr.gets)
		}
		want, err := buildProof(pdb, w.keys, s.head, nil, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("push %d→%d: proof from the append's nodes differs from Pebble's", start, s.head.Length)
		}
		if err := r.ApplyProof(ctx, got); err != nil {
			t.Fatalf("push %d→%d: %v", start, s.head.Length, err)
		}
	}
	if r.Length() != w.Length() {
		t.Fatalf("follower at %d, writer at %d", r.Length(), w.Length())
	}
}

// An append larger than a push keeps no nodes (a lookup scans them), and
// states not made by an append (a truncation) keep none either.
func TestRecentNodesOnlyForSmallAppends(t *testing.T) {
	ctx := context.Background()
	w := newWriter(t, openPebble(t), "w", 1, &Options{NoSync: true})
	pages := make([][]byte, maxRecentPages+1)
	for i := range pages {
		pages[i] = []byte{byte(i)}
	}
	if _, err := w.Append(ctx, pages...); err != nil {
		t.Fatal(err)
	}
	if w.state.Load().recent != nil {
		t.Fatalf("an append of %d pages kept its nodes", len(pages))
	}
	if _, err := w.Append(ctx, pages[:maxRecentPages]...); err != nil {
		t.Fatal(err)
	}
	if w.state.Load().recent == nil {
		t.Fatalf("an append of %d pages kept no nodes", maxRecentPages)
	}
	if err := w.Truncate(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if w.state.Load().recent != nil {
		t.Fatal("a truncation kept the last append's nodes")
	}
}
