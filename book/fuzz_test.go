package book

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// Fuzz tests for every decoder (stored head, stored node, proof wire form)
// and for verification, in the style of tailscale's tka: take something
// valid, change one byte, and expect it to be refused. The seeds run as
// part of `go test ./book`; run a fuzzer with, for example,
//
//	go test -run='^$' -fuzz=FuzzProofMutation -fuzztime=60s ./book
//
// Crashers the fuzzer finds are kept under testdata/fuzz/<FuzzName>/ and
// replayed by every `go test` as regression inputs.

// fuzzPage is page i of the fuzz fixtures' book: sizes differ, so a size
// in a node is never interchangeable with another.
func fuzzPage(i int) []byte { return bytes.Repeat([]byte{'a' + byte(i)}, i+1) }

// fuzzWriter returns a writable book on pdb holding n pages in one batch.
func fuzzWriter(tb testing.TB, pdb *pebble.DB, prefix string, n int) *Book {
	tb.Helper()
	w := newWriter(tb, pdb, prefix, 7, &Options{NoSync: true})
	fuzzAppend(tb, w, n)
	return w
}

// fuzzAppend grows w to n pages, one batch.
func fuzzAppend(tb testing.TB, w *Book, n int) {
	tb.Helper()
	var pages [][]byte
	for i := int(w.Length()); i < n; i++ {
		pages = append(pages, fuzzPage(i))
	}
	if _, err := w.Append(context.Background(), pages...); err != nil {
		tb.Fatal(err)
	}
}

// storedHead returns the raw stored head record of b.
func storedHead(tb testing.TB, b *Book) []byte {
	tb.Helper()
	v, closer, err := b.pdb.Get(b.keys.head())
	if err != nil {
		tb.Fatal(err)
	}
	defer closer.Close()
	return append([]byte(nil), v...)
}

func FuzzDecodeHead(f *testing.F) {
	pdb := openPebble(f)
	w := fuzzWriter(f, pdb, "w", 1)
	for _, n := range []int{1, 2, 3, 7, 8, 13} {
		fuzzAppend(f, w, n)
		rec := storedHead(f, w)
		f.Add(rec)
		frozen := append([]byte(nil), rec...)
		frozen[1] = flagFrozen
		f.Add(frozen)
	}
	f.Add(encodeHead(emptyState().head, false))
	f.Add([]byte{})
	f.Add(make([]byte, headFixedSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, frozen, err := decodeHead(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if got := encodeHead(h, frozen); !bytes.Equal(got, b) {
			t.Fatalf("decoded head re-encodes differently:\n in  %x\n out %x", b, got)
		}
		if err := h.checkShape(); err != nil {
			t.Fatalf("decodeHead accepted a head of bad shape: %v", err)
		}
	})
}

func FuzzDecodeNodeValue(f *testing.F) {
	f.Add(uint64(0), appendNodeValue(nil, Node{Size: 5, Hash: fill32(1)}))
	f.Add(uint64(3), appendNodeValue(nil, Node{Size: 1 << 40, Hash: fill32(2)}))
	f.Add(uint64(2), appendNodeValue(nil, Node{Size: maxPageSizeLimit + 1}))
	f.Add(uint64(1), []byte{1, 2, 3})
	f.Add(^uint64(0), make([]byte, nodeValueSize+1))
	f.Fuzz(func(t *testing.T, index uint64, v []byte) {
		n, err := decodeNodeValue(index, v)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if n.Index != index {
			t.Fatalf("decoded index %d, want %d", n.Index, index)
		}
		if depth(index) == 0 && n.Size > maxPageSizeLimit {
			t.Fatalf("accepted a leaf of %d bytes", n.Size)
		}
		if got := appendNodeValue(nil, n); !bytes.Equal(got, v) {
			t.Fatalf("node re-encodes differently:\n in  %x\n out %x", v, got)
		}
	})
}

func FuzzUnmarshalProof(f *testing.F) {
	golden, _ := goldenProof().MarshalBinary()
	f.Add(golden)
	for _, n := range []int{0, 1, 2, 10, 30, len(golden) - 1} {
		f.Add(golden[:n])
	}
	for _, s := range proofScenarios(f) {
		f.Add(s.target)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Proof
		if err := p.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		out, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded proof does not encode: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("proof re-encodes differently:\n in  %x\n out %x", b, out)
		}
	})
}

// proofScenario is a reader state (the proofs applied to a fresh reader
// first) and a valid encoded proof for that state.
type proofScenario struct {
	name   string
	key    []byte
	base   []*Proof
	target []byte
}

// proofScenarios builds, on its own Pebble, a book of 8 pages with a
// batch boundary at 3, and three valid proofs:
//
//	fresh:     page 5 + upgrade 0→8, to a reader holding nothing;
//	linked:    page 5 + upgrade 3→8 (two link nodes, 6 and 11), to a
//	           reader holding page 1 and the head at 3;
//	page only: page 2 with its whole path, to a reader holding the head
//	           at 8 and nothing else.
func proofScenarios(tb testing.TB) []proofScenario {
	tb.Helper()
	w := fuzzWriter(tb, openPebble(tb), "w", 3)
	prove := func(req ProofRequest) *Proof {
		p, err := w.Proof(req)
		if err != nil {
			tb.Fatal(err)
		}
		return p
	}
	encode := func(p *Proof) []byte {
		b, err := p.MarshalBinary()
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	at3 := prove(ProofRequest{Page: &PageRequest{Index: 1}, Upgrade: &UpgradeRequest{Start: 0}})
	fuzzAppend(tb, w, 8)
	headOnly := prove(ProofRequest{Upgrade: &UpgradeRequest{Start: 0}})
	key := w.Key()
	return []proofScenario{
		{"fresh", key, nil, encode(prove(ProofRequest{Page: &PageRequest{Index: 5}, Upgrade: &UpgradeRequest{Start: 0}}))},
		{"linked", key, []*Proof{at3}, encode(prove(ProofRequest{Page: &PageRequest{Index: 5}, Upgrade: &UpgradeRequest{Start: 3}}))},
		{"page only", key, []*Proof{headOnly}, encode(prove(ProofRequest{Page: &PageRequest{Index: 2}}))},
	}
}

var fuzzReaderSeq atomic.Uint64

// freshReader opens a read-only book under a new prefix of pdb and applies
// the scenario's base proofs. Prefixes have a fixed width, so no prefix is
// a prefix of another.
func (s proofScenario) freshReader(t *testing.T, pdb *pebble.DB) *Book {
	prefix := fmt.Sprintf("r%016x", fuzzReaderSeq.Add(1))
	r := newReader(t, pdb, prefix, s.key, &Options{NoSync: true})
	for _, p := range s.base {
		if err := r.ApplyProof(context.Background(), p); err != nil {
			t.Fatalf("%s: base proof: %v", s.name, err)
		}
	}
	return r
}

// bookRecords returns every key and value a book holds, for comparing its
// stored state before and after.
func bookRecords(t *testing.T, b *Book) []byte {
	start, end := b.keys.all()
	it, err := b.pdb.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []byte
	for it.First(); it.Valid(); it.Next() {
		out = binary.AppendUvarint(out, uint64(len(it.Key())))
		out = append(out, it.Key()...)
		out = binary.AppendUvarint(out, uint64(len(it.Value())))
		out = append(out, it.Value()...)
	}
	return out
}

// FuzzProofMutation changes one byte of a valid encoded proof and expects
// decoding or ApplyProof to refuse it, leaving the reader as it was. Every
// byte of the three scenarios' proofs matters: version, flags and counts to
// the decoder; fork, lengths, roots and signature to the signature check;
// start and link nodes to linkRoots; page index, value and path to
// verifyPath. (Start and link nodes of an upgrade into a newer fork cannot
// be checked by the verifier and are ignored; no scenario here sends one.)
func FuzzProofMutation(f *testing.F) {
	scenarios := proofScenarios(f)
	for i, s := range scenarios {
		// Every field start (and the byte after it) plus a stride through
		// hashes, values and the signature.
		for pos := 0; pos < len(s.target); pos++ {
			if pos < 32 || pos%11 == 0 || pos == len(s.target)-1 {
				f.Add(uint8(i), uint16(pos), s.target[pos]^0x01)
			}
		}
		f.Add(uint8(i), uint16(1), uint8(0))
		f.Add(uint8(i), uint16(1), uint8(proofFlagPage))
		f.Add(uint8(i), uint16(1), uint8(proofFlagUpgrade))
	}
	pdb := openPebble(f)
	f.Fuzz(func(t *testing.T, which uint8, pos uint16, val byte) {
		s := scenarios[int(which)%len(scenarios)]
		i := int(pos) % len(s.target)
		if s.target[i] == val {
			return // not a mutation
		}
		mutated := append([]byte(nil), s.target...)
		mutated[i] = val
		r := s.freshReader(t, pdb)
		before, beforeLen := bookRecords(t, r), r.Length()
		var p Proof
		if err := p.UnmarshalBinary(mutated); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s byte %d: decode error %v does not wrap ErrCorrupt", s.name, i, err)
			}
			return
		}
		err := r.ApplyProof(context.Background(), &p)
		switch {
		case err == nil:
			t.Fatalf("%s: proof with byte %d changed %#x→%#x was accepted", s.name, i, s.target[i], val)
		case !errors.Is(err, ErrVerify) && !errors.Is(err, ErrStale) && !errors.Is(err, ErrTooLarge):
			t.Fatalf("%s byte %d: error %v is not a verification failure", s.name, i, err)
		}
		if r.Frozen() || r.Length() != beforeLen || !bytes.Equal(bookRecords(t, r), before) {
			t.Fatalf("%s byte %d: refused proof changed the reader", s.name, i)
		}
	})
}

// FuzzHeadVerify changes one byte of a valid stored head (3 roots, fork 1)
// and expects decodeHead or Head.Verify to refuse it. The one exception is
// the frozen flag (byte 1, bit 0): it is local state, not signed, so
// setting it changes nothing else; the test checks exactly that.
func FuzzHeadVerify(f *testing.F) {
	pdb := openPebble(f)
	w := fuzzWriter(f, pdb, "w", 8)
	if err := w.Truncate(context.Background(), 7); err != nil {
		f.Fatal(err)
	}
	rec := storedHead(f, w)
	for pos := range rec {
		if pos < headFixedSize || pos%13 == 0 {
			f.Add(uint16(pos), rec[pos]^0x80)
		}
	}
	f.Add(uint16(1), uint8(flagFrozen))
	f.Fuzz(func(t *testing.T, pos uint16, val byte) {
		i := int(pos) % len(rec)
		if rec[i] == val {
			return
		}
		mutated := append([]byte(nil), rec...)
		mutated[i] = val
		h, frozen, err := decodeHead(mutated)
		if err != nil {
			return
		}
		if err := h.Verify(w.Key()); err != nil {
			return
		}
		want, _ := w.Head()
		if i == 1 && val == flagFrozen && frozen && bytes.Equal(encodeHead(h, false), encodeHead(want, false)) {
			return // the unsigned local flag
		}
		t.Fatalf("head with byte %d changed %#x→%#x verifies", i, rec[i], val)
	})
}
