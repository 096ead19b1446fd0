package book

import (
	"github.com/cockroachdb/pebble/v2"
)

// Span is a run of consecutive pages held here.
type Span struct {
	Start, Length uint64
}

// Spans returns up to max runs of pages stored here, from page from on, in
// order. A writable book holds one span, [0, Length). It scans page keys,
// so it costs one step per stored page of the scanned part.
func (b *Book) Spans(from uint64, max int) ([]Span, error) {
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	length := b.Length()
	if b.secret != nil {
		if from >= length {
			return nil, nil
		}
		return []Span{{Start: from, Length: length - from}}, nil
	}
	_, end := b.keys.span(tagPage)
	it, err := b.pdb.NewIter(&pebble.IterOptions{LowerBound: b.keys.page(from), UpperBound: end})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Span
	for it.First(); it.Valid(); it.Next() {
		i := keyIndex(it.Key())
		if i >= length {
			break
		}
		if n := len(out); n > 0 && out[n-1].Start+out[n-1].Length == i {
			out[n-1].Length++
			continue
		}
		if len(out) == max {
			break
		}
		out = append(out, Span{Start: i, Length: 1})
	}
	return out, it.Error()
}

// Contiguous returns how many pages from the first are stored here without
// a gap, scanning from the hint (a count known to be held already).
func (b *Book) Contiguous(hint uint64) (uint64, error) {
	spans, err := b.Spans(hint, 1)
	if err != nil || len(spans) == 0 || spans[0].Start != hint {
		return hint, err
	}
	return hint + spans[0].Length, nil
}
