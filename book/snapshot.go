package book

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Snapshot is a consistent read view of a book: the head and every page
// as they were when it was taken, whatever is appended or truncated after.
// Close it when done: it pins Pebble's state.
type Snapshot struct {
	b    *Book
	snap *pebble.Snapshot
	st   *state
}

// Snapshot returns a read view of the book's current state.
func (b *Book) Snapshot() (*Snapshot, error) {
	b.mu.Lock() // head and Pebble state must match
	defer b.mu.Unlock()
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	return &Snapshot{b: b, snap: b.pdb.NewSnapshot(), st: b.state.Load()}, nil
}

// Head returns the head the snapshot sees.
func (s *Snapshot) Head() *Head { return s.st.head.Clone() }

// Length returns the snapshot's length.
func (s *Snapshot) Length() uint64 { return s.st.head.Length }

// ByteLength returns the snapshot's byte length.
func (s *Snapshot) ByteLength() uint64 { return s.st.head.ByteLength }

// Fork returns the snapshot's fork.
func (s *Snapshot) Fork() uint64 { return s.st.head.Fork }

// Get returns page i as of the snapshot, or ErrNotFound; it never waits.
func (s *Snapshot) Get(i uint64) ([]byte, error) {
	p, err := getPage(s.snap, s.b.keys, i, s.st.head.Length)
	if err != nil {
		return nil, fmt.Errorf("book %s: snapshot page %d: %w", s.b.name, i, err)
	}
	return p, nil
}

// Has reports whether page i was stored when the snapshot was taken.
func (s *Snapshot) Has(i uint64) (bool, error) { return hasPage(s.snap, s.b.keys, i, s.st.head.Length) }

// Seek is Book.Seek as of the snapshot.
func (s *Snapshot) Seek(ctx context.Context, off uint64) (page, rel uint64, err error) {
	return seek(s.snap, s.b.keys, s.st.head, off)
}

// Proof is Book.Proof as of the snapshot.
func (s *Snapshot) Proof(req ProofRequest) (*Proof, error) {
	if !s.st.signed {
		return nil, fmt.Errorf("book %s: %w: nothing signed yet", s.b.name, ErrNotFound)
	}
	return buildProof(s.snap, s.b.keys, s.st.head, nil, req, nil)
}

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.snap.Close() }
