package book

import (
	"encoding/binary"
	"fmt"
)

// Proof wire format. A Proof travels as one self-delimiting record, little
// endian, version 1:
//
//	[0]       version = 1
//	[1]       flags: bit 0 a page follows, bit 1 an upgrade follows;
//	          every other bit must be 0
//	[2:10]    fork
//
// then, when bit 0 is set, the page (PageProof):
//
//	u64       page index
//	u32       value length v (at most 1<<30 and at most the bytes left)
//	v bytes   page value
//	u8        number of path nodes n (at most 64, maxRoots)
//	n × 48    path nodes from the leaf's sibling upward, each
//	          u64 index ‖ u64 size ‖ 32-byte hash
//
// then, when bit 1 is set, the upgrade (UpgradeProof):
//
//	u64       start: the verifier's length the upgrade links from
//	u64       length: the signed length
//	64 bytes  Ed25519 signature of the head at length
//	u8        number of roots r (at most 64, maxRoots)
//	r × 48    roots of length, left to right, as above
//	u8        number of link nodes m (at most 128, maxProofNodes)
//	m × 48    link nodes, in upgradeNodes order, as above
//
// Nothing may follow. Decoding allocates no more than the input's size and
// checks structure only: whether a proof proves anything is for
// verifyProof (ApplyProof) to decide. The encoding is canonical: a record
// that decodes re-encodes to the same bytes.
const (
	proofVersion     = 1
	proofFlagPage    = 1 << 0
	proofFlagUpgrade = 1 << 1
	proofHeaderSize  = 10
	proofNodeSize    = 8 + 8 + HashSize
	maxProofValue    = maxPageSizeLimit // 1 GiB
)

// MarshalBinary encodes p in the proof wire format. It refuses, with
// ErrTooLarge, a proof the decoder would refuse: more path nodes than
// maxRoots, more roots than maxRoots, more link nodes than maxProofNodes,
// or a page value over 1 GiB.
func (p *Proof) MarshalBinary() ([]byte, error) {
	if err := p.checkEncodable(); err != nil {
		return nil, err
	}
	b := make([]byte, proofHeaderSize, p.encodedSize())
	b[0] = proofVersion
	binary.LittleEndian.PutUint64(b[2:], p.Fork)
	if pp := p.Page; pp != nil {
		b[1] |= proofFlagPage
		b = binary.LittleEndian.AppendUint64(b, pp.Index)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(pp.Value)))
		b = append(b, pp.Value...)
		b = appendProofNodes(b, pp.Nodes)
	}
	if u := p.Upgrade; u != nil {
		b[1] |= proofFlagUpgrade
		b = binary.LittleEndian.AppendUint64(b, u.Start)
		b = binary.LittleEndian.AppendUint64(b, u.Length)
		b = append(b, u.Signature[:]...)
		b = appendProofNodes(b, u.Roots)
		b = appendProofNodes(b, u.Nodes)
	}
	return b, nil
}

func (p *Proof) checkEncodable() error {
	if p.Range != nil {
		return fmt.Errorf("%w: range proofs have no binary encoding (replication sends them as protobuf)", ErrTooLarge)
	}
	if pp := p.Page; pp != nil {
		if len(pp.Value) > maxProofValue || len(pp.Nodes) > maxRoots {
			return fmt.Errorf("%w: proof of page %d: %d bytes, %d path nodes", ErrTooLarge, pp.Index, len(pp.Value), len(pp.Nodes))
		}
	}
	if u := p.Upgrade; u != nil {
		if len(u.Roots) > maxRoots || len(u.Nodes) > maxProofNodes {
			return fmt.Errorf("%w: upgrade proof: %d roots, %d link nodes", ErrTooLarge, len(u.Roots), len(u.Nodes))
		}
	}
	return nil
}

func (p *Proof) encodedSize() int {
	n := proofHeaderSize
	if pp := p.Page; pp != nil {
		n += 8 + 4 + len(pp.Value) + 1 + proofNodeSize*len(pp.Nodes)
	}
	if u := p.Upgrade; u != nil {
		n += 8 + 8 + 64 + 2 + proofNodeSize*(len(u.Roots)+len(u.Nodes))
	}
	return n
}

func appendProofNodes(b []byte, nodes []Node) []byte {
	b = append(b, byte(len(nodes)))
	for _, n := range nodes {
		b = binary.LittleEndian.AppendUint64(b, n.Index)
		b = binary.LittleEndian.AppendUint64(b, n.Size)
		b = append(b, n.Hash[:]...)
	}
	return b
}

// UnmarshalBinary decodes a proof in the wire format into p. Every error
// wraps ErrCorrupt and leaves p unchanged. The page value is copied: b may
// be reused once it returns.
func (p *Proof) UnmarshalBinary(b []byte) error {
	if len(b) < proofHeaderSize {
		return fmt.Errorf("%w: proof is %d bytes, want at least %d", ErrCorrupt, len(b), proofHeaderSize)
	}
	if b[0] != proofVersion {
		return fmt.Errorf("%w: proof version %d, want %d", ErrCorrupt, b[0], proofVersion)
	}
	flags := b[1]
	if flags&^(proofFlagPage|proofFlagUpgrade) != 0 {
		return fmt.Errorf("%w: proof has unknown flags %#x", ErrCorrupt, flags)
	}
	d := proofDecoder{b: b[proofHeaderSize:]}
	q := Proof{Fork: binary.LittleEndian.Uint64(b[2:])}
	if flags&proofFlagPage != 0 {
		q.Page = d.page()
	}
	if flags&proofFlagUpgrade != 0 {
		q.Upgrade = d.upgrade()
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return d.err
	}
	*p = q
	return nil
}

// proofDecoder reads fields off the front of b; after the first error
// every read returns zero values and err keeps that first error.
type proofDecoder struct {
	b   []byte
	err error
}

func (d *proofDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: proof: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

// take returns the next n bytes, or nil after recording an error.
func (d *proofDecoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("%s needs %d bytes, %d left", what, n, len(d.b))
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *proofDecoder) u64(what string) uint64 {
	if v := d.take(8, what); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (d *proofDecoder) page() *PageProof {
	pp := &PageProof{Index: d.u64("page index")}
	var n uint32
	if v := d.take(4, "page value length"); v != nil {
		n = binary.LittleEndian.Uint32(v)
	}
	if n > maxProofValue {
		d.fail("page value of %d bytes, limit %d", n, maxProofValue)
	}
	if v := d.take(int(n), "page value"); n > 0 && v != nil {
		pp.Value = append([]byte(nil), v...)
	}
	pp.Nodes = d.nodes(maxRoots, "page path")
	return pp
}

func (d *proofDecoder) upgrade() *UpgradeProof {
	u := &UpgradeProof{Start: d.u64("upgrade start"), Length: d.u64("upgrade length")}
	copy(u.Signature[:], d.take(len(u.Signature), "upgrade signature"))
	u.Roots = d.nodes(maxRoots, "upgrade roots")
	u.Nodes = d.nodes(maxProofNodes, "upgrade link nodes")
	return u
}

// nodes reads a u8 count (at most limit) and that many nodes.
func (d *proofDecoder) nodes(limit int, what string) []Node {
	c := d.take(1, what+" count")
	if c == nil || c[0] == 0 {
		return nil
	}
	if int(c[0]) > limit {
		d.fail("%s of %d nodes, limit %d", what, c[0], limit)
		return nil
	}
	raw := d.take(int(c[0])*proofNodeSize, what)
	if raw == nil {
		return nil
	}
	out := make([]Node, c[0])
	for i := range out {
		r := raw[i*proofNodeSize:]
		out[i].Index = binary.LittleEndian.Uint64(r)
		out[i].Size = binary.LittleEndian.Uint64(r[8:])
		copy(out[i].Hash[:], r[16:proofNodeSize])
	}
	return out
}
