package book

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
)

// recordingPacer records what it is asked and refuses once refuse is set.
type recordingPacer struct {
	mu     sync.Mutex
	asked  []int
	refuse error
}

func (p *recordingPacer) Wait(ctx context.Context, n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, n)
	return p.refuse
}

func (p *recordingPacer) last() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.asked[len(p.asked)-1]
}

// Every kind of append asks the pacer first, with about the bytes it
// writes; one it refuses fails and writes nothing.
func TestPacerAskedBeforeEveryAppend(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	p := &recordingPacer{}
	opts := &Options{NoSync: true, Pacer: p}
	b := newWriter(t, pdb, "a", 1, opts)
	c := newWriter(t, pdb, "b", 2, opts)
	pages := make([][]byte, 100)
	for i := range pages {
		pages[i] = bytes.Repeat([]byte{byte(i)}, 1000)
	}

	if _, err := b.Append(ctx, pages...); err != nil {
		t.Fatal(err)
	}
	// 100 pages of 1,000 bytes: their records are at least the pages and
	// their hashes, and not much more.
	if n := p.last(); n < 100*(1000+32) || n > 100*(1000+32+128) {
		t.Fatalf("Append asked for %d bytes", n)
	}
	if _, err := b.AppendAsync(ctx, AppendOptions{}, pages[:10]...).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if n := p.last(); n < 10*(1000+32) || n > 10*(1000+32+128) {
		t.Fatalf("AppendAsync asked for %d bytes", n)
	}
	if _, err := AppendMulti(ctx, SyncDefault, []MultiAppend{{Book: b, Pages: pages[:5]}, {Book: c, Pages: pages[:7]}}); err != nil {
		t.Fatal(err)
	}
	if n := p.last(); n < 12*(1000+32) {
		t.Fatalf("AppendMulti asked for %d bytes", n)
	}
	if len(p.asked) != 3 {
		t.Fatalf("pacer asked %d times for 3 appends", len(p.asked))
	}

	refused := errors.New("not now")
	p.mu.Lock()
	p.refuse = refused
	p.mu.Unlock()
	lb, lc := b.Length(), c.Length()
	if _, err := b.Append(ctx, pages...); !errors.Is(err, refused) {
		t.Fatalf("Append refused by the pacer: %v", err)
	}
	if _, err := b.AppendAsync(ctx, AppendOptions{}, pages[:3]...).Wait(ctx); !errors.Is(err, refused) {
		t.Fatalf("AppendAsync refused by the pacer: %v", err)
	}
	if _, err := AppendMulti(ctx, SyncDefault, []MultiAppend{{Book: b, Pages: pages[:1]}, {Book: c, Pages: pages[:1]}}); !errors.Is(err, refused) {
		t.Fatalf("AppendMulti refused by the pacer: %v", err)
	}
	if b.Length() != lb || c.Length() != lc {
		t.Fatalf("refused appends changed the books: %d→%d, %d→%d", lb, b.Length(), lc, c.Length())
	}
	// Nothing of them reached Pebble either: a fresh handle sees the same.
	b.Close()
	again := newReader(t, pdb, "a", b.Key(), nil)
	if again.Length() != lb {
		t.Fatalf("reopened book has %d pages, want %d", again.Length(), lb)
	}
	rep, err := again.Audit(ctx)
	if err == nil {
		err = rep.Err()
	}
	if err != nil || rep.Pages != lb {
		t.Fatalf("audit: %v, %d pages checked of %d", err, rep.Pages, lb)
	}
}

// An empty AppendMulti does nothing and asks nobody (it used to index its
// first share).
func TestAppendMultiNoParts(t *testing.T) {
	res, err := AppendMulti(context.Background(), SyncDefault, nil)
	if err != nil || len(res) != 0 {
		t.Fatalf("AppendMulti(nil) = %v, %v", res, err)
	}
}

// A read-only book asks the pacer before it stores a proof, with about
// the proof's bytes; a refused proof changes nothing.
func TestPacerAskedBeforeApply(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w", 1, nil)
	pages := make([][]byte, 50)
	for i := range pages {
		pages[i] = bytes.Repeat([]byte{byte(i)}, 1000)
	}
	if _, err := w.Append(ctx, pages...); err != nil {
		t.Fatal(err)
	}
	p := &recordingPacer{refuse: errors.New("not now")}
	r := newReader(t, pdb, "r", w.Key(), &Options{Pacer: p})
	proof := mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Range: &RangeRequest{Start: 0, End: 50}})
	if err := r.ApplyProof(ctx, proof); !errors.Is(err, p.refuse) {
		t.Fatalf("ApplyProof refused by the pacer: %v", err)
	}
	if r.Length() != 0 {
		t.Fatalf("a refused proof stored %d pages", r.Length())
	}
	if n := p.last(); n < 50*1000 || n > 50*(1000+256) {
		t.Fatalf("ApplyProof asked for %d bytes for 50 pages of 1,000", n)
	}
	p.mu.Lock()
	p.refuse = nil
	p.mu.Unlock()
	mustApply(t, r, proof)
	if r.Length() != 50 {
		t.Fatalf("reader has %d pages after the proof", r.Length())
	}
}
