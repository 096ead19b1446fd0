package book

import (
	"context"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// rawGet returns a copy of the value stored under key.
func rawGet(t testing.TB, pdb *pebble.DB, key []byte) []byte {
	t.Helper()
	v, closer, err := pdb.Get(key)
	if err != nil {
		t.Fatalf("raw get %q: %v", key, err)
	}
	defer closer.Close()
	return append([]byte(nil), v...)
}

func rawSet(t testing.TB, pdb *pebble.DB, key, value []byte) {
	t.Helper()
	if err := pdb.Set(key, value, pebble.NoSync); err != nil {
		t.Fatal(err)
	}
}

func hasProblem(rep *AuditReport, kind ProblemKind, index uint64) bool {
	for _, p := range rep.Problems {
		if p.Kind == kind && p.Index == index {
			return true
		}
	}
	return false
}

// auditExpectingProblems audits b, checks that it found something, that
// the report's error matches ErrCorrupt and that one Corruption event fired.
func auditExpectingProblems(t *testing.T, b *Book, events *[]CorruptionInfo) *AuditReport {
	t.Helper()
	before := len(*events)
	rep, err := b.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("audit found nothing wrong")
	}
	if err := rep.Err(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("report error %v does not match ErrCorrupt", err)
	}
	if len(*events) != before+1 || !errors.Is((*events)[before].Err, ErrCorrupt) {
		t.Fatalf("corruption events %+v", (*events)[before:])
	}
	return rep
}

func corruptibleWriter(t *testing.T) (*Book, *[]CorruptionInfo) {
	pdb := openPebble(t)
	events := new([]CorruptionInfo)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true, EventListener: &EventListener{
		Corruption: func(c CorruptionInfo) { *events = append(*events, c) },
	}})
	mustAppend(t, w, testPages(0, 13)...)
	mustAppend(t, w, testPages(13, 16)...)
	rep := mustAudit(t, w)
	if rep.Pages != 16 || rep.Nodes != 15 {
		t.Fatalf("clean audit counted %d pages, %d nodes", rep.Pages, rep.Nodes)
	}
	if len(*events) != 0 {
		t.Fatal("a clean audit fired a corruption event")
	}
	return w, events
}

func TestAuditCleanBooks(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	if rep := mustAudit(t, w); rep.Pages != 0 || rep.Nodes != 0 {
		t.Fatalf("empty book audit %+v", rep)
	}
	r := newReader(t, pdb, "r/", w.Key(), nil)
	mustAudit(t, r)
	for n := 1; n <= 33; n++ {
		mustAppend(t, w, testPage(n))
		mustAudit(t, w)
	}
}

func TestAuditFindsCorruptPage(t *testing.T) {
	w, events := corruptibleWriter(t)
	key := w.keys.page(5)
	v := rawGet(t, w.pdb, key)
	v[len(v)-1] ^= 0x01 // a byte of the page, not of its leaf hash
	rawSet(t, w.pdb, key, v)
	rep := auditExpectingProblems(t, w, events)
	if !hasProblem(rep, ProblemPage, 5) || len(rep.Problems) != 1 {
		t.Fatalf("problems %v, want exactly page 5", rep.Problems)
	}

	// a page record shorter than its hash: caught by audit and by Get
	rawSet(t, w.pdb, w.keys.page(9), []byte("short"))
	rep = auditExpectingProblems(t, w, events)
	if !hasProblem(rep, ProblemPage, 9) || !hasProblem(rep, ProblemPage, 5) {
		t.Fatalf("problems %v, want pages 5 and 9", rep.Problems)
	}
	before := len(*events)
	if _, err := w.Get(context.Background(), 9, &GetOptions{LocalOnly: true}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("get of a short record: %v", err)
	}
	if len(*events) != before+1 {
		t.Fatal("get of a corrupt page fired no corruption event")
	}
}

func TestAuditFindsCorruptNode(t *testing.T) {
	w, events := corruptibleWriter(t)
	// node 9 is the parent of pages 4 and 5 (leaves 8, 10)
	key := w.keys.node(9)
	v := rawGet(t, w.pdb, key)
	v[20] ^= 0x80 // inside the hash
	rawSet(t, w.pdb, key, v)
	rep := auditExpectingProblems(t, w, events)
	if !hasProblem(rep, ProblemNode, 9) {
		t.Fatalf("problems %v do not name node 9", rep.Problems)
	}
	// its parent (11) no longer matches either; nothing else is blamed
	for _, p := range rep.Problems {
		if p.Kind != ProblemNode || (p.Index != 9 && p.Index != 11) {
			t.Fatalf("unexpected problem %v", p)
		}
	}

	// a node size that lies, and a record of the wrong length
	key = w.keys.node(21)
	v = rawGet(t, w.pdb, key)
	v[0]++
	rawSet(t, w.pdb, key, v)
	rawSet(t, w.pdb, w.keys.node(25), v[:10])
	rep = auditExpectingProblems(t, w, events)
	for _, idx := range []uint64{9, 21, 25} {
		if !hasProblem(rep, ProblemNode, idx) {
			t.Fatalf("problems %v do not name node %d", rep.Problems, idx)
		}
	}
}

func TestAuditFindsCorruptRoot(t *testing.T) {
	w, events := corruptibleWriter(t)
	// 16 pages: one root, node 15
	key := w.keys.node(15)
	v := rawGet(t, w.pdb, key)
	v[8] ^= 1
	rawSet(t, w.pdb, key, v)
	rep := auditExpectingProblems(t, w, events)
	if !hasProblem(rep, ProblemNode, 15) {
		t.Fatalf("problems %v do not name root 15", rep.Problems)
	}
}

func TestAuditFindsBadHeadSignature(t *testing.T) {
	w, events := corruptibleWriter(t)
	key := w.keys.head()
	v := rawGet(t, w.pdb, key)
	v[58+10] ^= 0x04 // a byte of the signature (see head.go)
	rawSet(t, w.pdb, key, v)
	rep := auditExpectingProblems(t, w, events)
	if !hasProblem(rep, ProblemSignature, 16) {
		t.Fatalf("problems %v do not name the head signature", rep.Problems)
	}
	// the stored head no longer opens
	if _, err := Open(w.pdb, []byte("w/"), w.Key(), nil, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open with a bad stored signature: %v, want ErrCorrupt", err)
	}
}

func TestAuditFindsBadHeadRecord(t *testing.T) {
	w, events := corruptibleWriter(t)
	key := w.keys.head()
	v := rawGet(t, w.pdb, key)
	rawSet(t, w.pdb, key, v[:50])
	rep := auditExpectingProblems(t, w, events)
	if !hasProblem(rep, ProblemHead, 16) {
		t.Fatalf("problems %v do not name the head record", rep.Problems)
	}
	if _, err := Open(w.pdb, []byte("w/"), w.Key(), nil, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open with a short head record: %v", err)
	}
}

func TestAuditFindsEveryCorruption(t *testing.T) {
	// page, node and head signature corrupted at once: all three named
	w, events := corruptibleWriter(t)
	pk := w.keys.page(2)
	pv := rawGet(t, w.pdb, pk)
	pv[40] ^= 1
	rawSet(t, w.pdb, pk, pv)
	nk := w.keys.node(5)
	nv := rawGet(t, w.pdb, nk)
	nv[30] ^= 1
	rawSet(t, w.pdb, nk, nv)
	hk := w.keys.head()
	hv := rawGet(t, w.pdb, hk)
	hv[100] ^= 1
	rawSet(t, w.pdb, hk, hv)
	rep := auditExpectingProblems(t, w, events)
	for _, want := range []Problem{{Kind: ProblemPage, Index: 2}, {Kind: ProblemNode, Index: 5}, {Kind: ProblemSignature, Index: 16}} {
		if !hasProblem(rep, want.Kind, want.Index) {
			t.Fatalf("problems %v do not name %s %d", rep.Problems, want.Kind, want.Index)
		}
	}
	if rep.Problems[0].String() == "" {
		t.Fatal("empty problem string")
	}
}

func TestAuditFindsMissingAndStrayRecords(t *testing.T) {
	w, events := corruptibleWriter(t)
	// a writable book that lost a parent node
	if err := w.pdb.Delete(w.keys.node(3), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	rep := auditExpectingProblems(t, w, events)
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemMissing {
		t.Fatalf("problems %v, want one missing", rep.Problems)
	}
	rawSet(t, w.pdb, w.keys.node(3), appendNodeValue(nil, scratchTree(testPages(0, 16))[3]))
	mustAudit(t, w)

	// a page record past the length, and a node outside the tree
	rawSet(t, w.pdb, w.keys.page(20), append(make([]byte, HashSize), 'x'))
	rawSet(t, w.pdb, w.keys.node(41), make([]byte, nodeValueSize))
	rep = auditExpectingProblems(t, w, events)
	if !hasProblem(rep, ProblemPage, 20) || !hasProblem(rep, ProblemNode, 41) {
		t.Fatalf("problems %v, want page 20 and node 41", rep.Problems)
	}

	// a lost page
	w2, events2 := corruptibleWriter(t)
	if err := w2.pdb.Delete(w2.keys.page(7), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	rep = auditExpectingProblems(t, w2, events2)
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemMissing {
		t.Fatalf("problems %v, want one missing", rep.Problems)
	}
}

func TestAuditReaderCorruption(t *testing.T) {
	// a read-only book may lack pages, but what it holds must check out
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 12)...)
	var events []CorruptionInfo
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true, EventListener: &EventListener{
		Corruption: func(c CorruptionInfo) { events = append(events, c) },
	}})
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}, Page: &PageRequest{Index: 3}}))
	mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 8}}))
	mustAudit(t, r)
	v := rawGet(t, pdb, r.keys.page(8))
	v[HashSize] ^= 1
	rawSet(t, pdb, r.keys.page(8), v)
	rep := auditExpectingProblems(t, r, &events)
	if !hasProblem(rep, ProblemPage, 8) || len(rep.Problems) != 1 {
		t.Fatalf("problems %v, want page 8", rep.Problems)
	}
}

func TestAuditContextCancelled(t *testing.T) {
	w, _ := corruptibleWriter(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Audit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled audit: %v", err)
	}
}

func TestAuditAfterClear(t *testing.T) {
	// Clear keeps a cleared page's leaf hash: a writable book that cleared
	// pages still holds every page it must, so it audits clean; losing a
	// kept leaf hash is still reported
	ctx := context.Background()
	w, events := corruptibleWriter(t)
	if err := w.Clear(ctx, 3, 11); err != nil {
		t.Fatal(err)
	}
	rep := mustAudit(t, w)
	if rep.Pages != 8 || rep.Nodes != 15+8 {
		t.Fatalf("audit after clear counted %d pages, %d nodes", rep.Pages, rep.Nodes)
	}
	if err := w.pdb.Delete(w.keys.node(2*4), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	rep = auditExpectingProblems(t, w, events)
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemMissing {
		t.Fatalf("problems %v, want page 4 missing", rep.Problems)
	}
}
