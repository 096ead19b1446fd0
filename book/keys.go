package book

import "encoding/binary"

// Storage layout. A book owns every Pebble key that starts with its prefix
// (the DB gives each book a short, unique prefix):
//
//	prefix 'h'                 → stored head record (head.go)
//	prefix 'n' u64be(index)    → tree node: u64le size ‖ hash (node.go)
//	prefix 'p' u64be(page)     → page: leaf hash ‖ page bytes
//	prefix 'e' u64be(seq)      → equivocation evidence: a stored head record
//
// A page record carries its own leaf node, so an append writes one key per
// page plus its new parent nodes. Leaf nodes stored under 'n' are those a
// read-only book learned from proofs (or kept by Clear) without the page.
const (
	tagHead     = 'h'
	tagNode     = 'n'
	tagPage     = 'p'
	tagEvidence = 'e'
)

type keys struct{ prefix []byte }

func (k keys) head() []byte { return append(k.base(1), tagHead) }

func (k keys) node(i uint64) []byte     { return k.indexed(tagNode, i) }
func (k keys) page(i uint64) []byte     { return k.indexed(tagPage, i) }
func (k keys) evidence(i uint64) []byte { return k.indexed(tagEvidence, i) }

// span returns the key range [start, end) of one tag.
func (k keys) span(tag byte) (start, end []byte) {
	return append(k.base(1), tag), append(k.base(1), tag+1)
}

// all returns the key range [start, end) of the whole book.
func (k keys) all() (start, end []byte) {
	return append([]byte(nil), k.prefix...), prefixEnd(k.prefix)
}

func (k keys) base(extra int) []byte {
	b := make([]byte, len(k.prefix), len(k.prefix)+extra+8)
	copy(b, k.prefix)
	return b
}

func (k keys) indexed(tag byte, i uint64) []byte {
	return binary.BigEndian.AppendUint64(append(k.base(9), tag), i)
}

// indexedLen is the length of an indexed key.
func (k keys) indexedLen() int { return len(k.prefix) + 9 }

// putIndexed writes the indexed key (tag, i) into dst, of indexedLen bytes.
func (k keys) putIndexed(dst []byte, tag byte, i uint64) {
	n := copy(dst, k.prefix)
	dst[n] = tag
	binary.BigEndian.PutUint64(dst[n+1:], i)
}

// keyIndex returns the index encoded at the end of an indexed key.
func keyIndex(key []byte) uint64 { return binary.BigEndian.Uint64(key[len(key)-8:]) }

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}
