package book

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
)

// Head is a signed state of a book: the roots of its Merkle tree at Length
// pages in fork Fork, and the author's signature over the signable bytes.
// An empty, never-signed book has Length 0 and a zero Signature.
type Head struct {
	Fork       uint64
	Length     uint64
	ByteLength uint64
	TreeHash   [32]byte
	Signature  [64]byte
	Roots      []Node
}

// Signable returns the 80 bytes the author signed for h.
func (h *Head) Signable() [SignableSize]byte { return Signable(h.TreeHash, h.Length, h.Fork) }

// Verify checks h's roots, tree hash and signature against key.
func (h *Head) Verify(key ed25519.PublicKey) error {
	if err := h.checkShape(); err != nil {
		return err
	}
	s := h.Signable()
	if !ed25519.Verify(key, s[:], h.Signature[:]) {
		return h.badSignature()
	}
	return nil
}

// verifyWith is Verify with a key decoded once (verifykey.go).
func (h *Head) verifyWith(k *verifyKey) error {
	if err := h.checkShape(); err != nil {
		return err
	}
	s := h.Signable()
	if !k.verify(s[:], h.Signature[:]) {
		return h.badSignature()
	}
	return nil
}

func (h *Head) badSignature() error {
	return fmt.Errorf("%w: bad signature on head (length %d, fork %d)", ErrVerify, h.Length, h.Fork)
}

// checkShape verifies everything but the signature: the root indices are
// those of Length, ByteLength is their total size and TreeHash their hash.
func (h *Head) checkShape() error {
	want := fullRoots(h.Length)
	if len(want) != len(h.Roots) {
		return fmt.Errorf("%w: head of length %d has %d roots, want %d", ErrVerify, h.Length, len(h.Roots), len(want))
	}
	var total uint64
	for i, r := range h.Roots {
		if r.Index != want[i] {
			return fmt.Errorf("%w: head root %d has index %d, want %d", ErrVerify, i, r.Index, want[i])
		}
		total += r.Size
	}
	if total != h.ByteLength {
		return fmt.Errorf("%w: head byte length %d, roots sum to %d", ErrVerify, h.ByteLength, total)
	}
	if TreeHash(h.Roots) != h.TreeHash {
		return fmt.Errorf("%w: head tree hash does not match its roots", ErrVerify)
	}
	return nil
}

// Clone returns a deep copy of h.
func (h *Head) Clone() *Head {
	c := *h
	c.Roots = append([]Node(nil), h.Roots...)
	return &c
}

// Stored head record (little endian), version 1:
//
//	[0]      version = 1
//	[1]      flags: bit 0 frozen (equivocation seen)
//	[2:10]   fork
//	[10:18]  length
//	[18:26]  byte length
//	[26:58]  tree hash
//	[58:122] signature
//	[122]    number of roots n (at most 64)
//	then n × (u64 index ‖ u64 size ‖ 32-byte hash)
const (
	headVersion    = 1
	headFixedSize  = 123
	rootRecordSize = 48
	flagFrozen     = 1
)

// encodeHead returns the stored form of h.
func encodeHead(h *Head, frozen bool) []byte {
	b := make([]byte, headFixedSize, headFixedSize+rootRecordSize*len(h.Roots))
	b[0] = headVersion
	if frozen {
		b[1] = flagFrozen
	}
	binary.LittleEndian.PutUint64(b[2:], h.Fork)
	binary.LittleEndian.PutUint64(b[10:], h.Length)
	binary.LittleEndian.PutUint64(b[18:], h.ByteLength)
	copy(b[26:58], h.TreeHash[:])
	copy(b[58:122], h.Signature[:])
	b[122] = byte(len(h.Roots))
	for _, r := range h.Roots {
		b = binary.LittleEndian.AppendUint64(b, r.Index)
		b = binary.LittleEndian.AppendUint64(b, r.Size)
		b = append(b, r.Hash[:]...)
	}
	return b
}

// decodeHead parses a stored head record and checks its shape (not its
// signature: that needs the key, and the caller does it).
func decodeHead(b []byte) (h *Head, frozen bool, err error) {
	if len(b) < headFixedSize {
		return nil, false, fmt.Errorf("%w: head record is %d bytes, want at least %d", ErrCorrupt, len(b), headFixedSize)
	}
	if b[0] != headVersion {
		return nil, false, fmt.Errorf("%w: head record version %d, want %d", ErrCorrupt, b[0], headVersion)
	}
	if b[1]&^flagFrozen != 0 {
		return nil, false, fmt.Errorf("%w: head record has unknown flags %#x", ErrCorrupt, b[1])
	}
	n := int(b[122])
	if len(b) != headFixedSize+n*rootRecordSize {
		return nil, false, fmt.Errorf("%w: head record is %d bytes for %d roots", ErrCorrupt, len(b), n)
	}
	h = &Head{
		Fork:       binary.LittleEndian.Uint64(b[2:]),
		Length:     binary.LittleEndian.Uint64(b[10:]),
		ByteLength: binary.LittleEndian.Uint64(b[18:]),
		Roots:      make([]Node, n),
	}
	copy(h.TreeHash[:], b[26:58])
	copy(h.Signature[:], b[58:122])
	for i := range h.Roots {
		r := b[headFixedSize+i*rootRecordSize:]
		h.Roots[i].Index = binary.LittleEndian.Uint64(r)
		h.Roots[i].Size = binary.LittleEndian.Uint64(r[8:])
		copy(h.Roots[i].Hash[:], r[16:48])
	}
	if err := h.checkShape(); err != nil {
		return nil, false, fmt.Errorf("%w: stored head: %v", ErrCorrupt, err)
	}
	return h, b[1]&flagFrozen != 0, nil
}
