package book

import (
	"crypto/ed25519"
	"encoding/binary"
	"hash"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// Hash type prefixes, as hypercore defines them.
const (
	leafType   = 0x00
	parentType = 0x01
	rootType   = 0x02
)

// HashSize is the size of every tree hash (BLAKE2b-256).
const HashSize = 32

// SignableSize is the size of the bytes an author signs for a head.
const SignableSize = 80

// treeNS is the namespace prefix of every signable:
// BLAKE2b-256(BLAKE2b-256("hypercore") ‖ 0x00), hypercore's TREE namespace.
var treeNS = func() [32]byte {
	root := blake2b.Sum256([]byte("hypercore"))
	return blake2b.Sum256(append(root[:], 0))
}()

// hasher is a pooled BLAKE2b-256 state with room for what is written to
// it and for the sum: bytes passed through the hash.Hash interface escape,
// so keeping them here, on the pooled object, saves two small allocations
// per page hashed.
type hasher struct {
	h       hash.Hash
	scratch [48]byte
	out     [32]byte
}

var hasherPool = sync.Pool{New: func() any {
	h, _ := blake2b.New256(nil)
	return &hasher{h: h}
}}

func getHasher() *hasher  { s := hasherPool.Get().(*hasher); s.h.Reset(); return s }
func putHasher(s *hasher) { hasherPool.Put(s) }

// sum returns the hash of what was written, and puts s back in the pool.
func (s *hasher) sum() [32]byte {
	s.h.Sum(s.out[:0])
	out := s.out
	putHasher(s)
	return out
}

// LeafHash returns the hash of a page: BLAKE2b-256(0x00 ‖ u64le(len) ‖ page).
func LeafHash(page []byte) [32]byte {
	s := getHasher()
	s.scratch[0] = leafType
	binary.LittleEndian.PutUint64(s.scratch[1:9], uint64(len(page)))
	s.h.Write(s.scratch[:9])
	s.h.Write(page)
	return s.sum()
}

// ParentHash returns BLAKE2b-256(0x01 ‖ u64le(sizeL+sizeR) ‖ hashL ‖ hashR).
func ParentHash(left, right Node) [32]byte {
	var buf [1 + 8 + 64]byte
	buf[0] = parentType
	binary.LittleEndian.PutUint64(buf[1:], left.Size+right.Size)
	copy(buf[9:], left.Hash[:])
	copy(buf[41:], right.Hash[:])
	return blake2b.Sum256(buf[:])
}

// parentNode builds the parent of two sibling nodes.
func parentNode(left, right Node) Node {
	return Node{Index: parent(left.Index), Size: left.Size + right.Size, Hash: ParentHash(left, right)}
}

// TreeHash returns the hash of a root set:
// BLAKE2b-256(0x02 ‖ for each root: hash ‖ u64le(index) ‖ u64le(size)).
func TreeHash(roots []Node) [32]byte {
	s := getHasher()
	s.scratch[0] = rootType
	s.h.Write(s.scratch[:1])
	for _, r := range roots {
		copy(s.scratch[:32], r.Hash[:])
		binary.LittleEndian.PutUint64(s.scratch[32:], r.Index)
		binary.LittleEndian.PutUint64(s.scratch[40:], r.Size)
		s.h.Write(s.scratch[:])
	}
	return s.sum()
}

// Signable returns the 80 bytes an author signs:
// TREE_NS ‖ treeHash ‖ u64le(length) ‖ u64le(fork).
func Signable(treeHash [32]byte, length, fork uint64) [SignableSize]byte {
	var out [SignableSize]byte
	copy(out[:32], treeNS[:])
	copy(out[32:64], treeHash[:])
	binary.LittleEndian.PutUint64(out[64:], length)
	binary.LittleEndian.PutUint64(out[72:], fork)
	return out
}

// DiscoveryKey returns BLAKE2b-256 keyed with the book key over "hypercore":
// peers who know only this can find each other but cannot read or verify.
func DiscoveryKey(key ed25519.PublicKey) [32]byte {
	h, err := blake2b.New256(key)
	if err != nil {
		panic("book: discovery key: " + err.Error()) // only for keys over 64 bytes
	}
	h.Write([]byte("hypercore"))
	var out [32]byte
	h.Sum(out[:0])
	return out
}
