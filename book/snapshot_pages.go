package book

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Pages calls fn with each page in [start, end) stored in the snapshot, in
// order, skipping pages not stored (cleared, or not replicated). It reads
// them with one Pebble iterator, so a long run costs far less than a Get
// per page. The page slice is only valid during the call; fn copies what
// it keeps. Pages stops at fn's first error and returns it.
func (s *Snapshot) Pages(start, end uint64, fn func(i uint64, page []byte) error) error {
	end = min(end, s.st.head.Length)
	if start >= end {
		return nil
	}
	it, err := s.snap.NewIter(&pebble.IterOptions{LowerBound: s.b.keys.page(start), UpperBound: s.b.keys.page(end)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		i, v := keyIndex(it.Key()), it.Value()
		if len(v) < HashSize {
			it.Close()
			return fmt.Errorf("book %s: snapshot page %d: %w: page record is %d bytes", s.b.name, i, ErrCorrupt, len(v))
		}
		if err := fn(i, v[HashSize:]); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}
