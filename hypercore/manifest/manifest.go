package manifest

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/folio-p2p/folio/hypercore/cenc"
	"golang.org/x/crypto/blake2b"
)

var (
	// ErrMalformed means a manifest or signature envelope does not parse.
	ErrMalformed = errors.New("manifest: malformed")
	// ErrUnsupported means a valid manifest uses what this package does not
	// verify (version 0, patches, another hash or signature scheme).
	ErrUnsupported = errors.New("manifest: unsupported")
	// ErrSignature means the envelope does not meet the manifest's quorum.
	ErrSignature = errors.New("manifest: signature does not verify")
)

// Manifest flag bits.
const (
	flagPatch    = 1
	flagPrologue = 2
	flagLinked   = 4
	flagUserData = 8
)

// maxSigners bounds the signers and signatures a peer can make us parse.
const maxSigners = 64

// namespaces are hypercore-crypto's: BLAKE2b-256(BLAKE2b-256("hypercore") ‖ i).
var (
	nsTree, nsManifest, nsDefault = ns(0), ns(3), ns(4)
)

func ns(i byte) [32]byte {
	h := blake2b.Sum256([]byte("hypercore"))
	return blake2b.Sum256(append(h[:], i))
}

// Signer is one signer of a manifest (Ed25519 only).
type Signer struct {
	Namespace [32]byte
	PublicKey [32]byte
}

// Prologue pins the tree hash at a length.
type Prologue struct {
	Hash   [32]byte
	Length uint64
}

// Manifest is a core's identity (versions 1 to 3).
type Manifest struct {
	Version    uint64
	AllowPatch bool
	Quorum     uint64
	Signers    []Signer
	Prologue   *Prologue
	Linked     [][32]byte
	UserData   []byte
}

// Default is the manifest hypercore 11 gives a core created with only a
// key pair.
func Default(pub ed25519.PublicKey) *Manifest {
	s := Signer{Namespace: nsDefault}
	copy(s.PublicKey[:], pub)
	return &Manifest{Version: 1, Quorum: 1, Signers: []Signer{s}}
}

// Append encodes m as hypercore does.
func (m *Manifest) Append(dst []byte) []byte {
	flags := uint64(0)
	if m.AllowPatch {
		flags |= flagPatch
	}
	if m.Prologue != nil {
		flags |= flagPrologue
	}
	if m.Linked != nil {
		flags |= flagLinked
	}
	if m.UserData != nil {
		flags |= flagUserData
	}
	dst = cenc.AppendUint(dst, m.Version)
	dst = cenc.AppendUint(dst, flags)
	dst = cenc.AppendUint(dst, 0) // hash: blake2b
	dst = cenc.AppendUint(dst, m.Quorum)
	dst = cenc.AppendUint(dst, uint64(len(m.Signers)))
	for _, s := range m.Signers {
		dst = cenc.AppendUint(dst, 0) // signature: ed25519
		dst = append(append(dst, s.Namespace[:]...), s.PublicKey[:]...)
	}
	if p := m.Prologue; p != nil {
		dst = cenc.AppendUint(append(dst, p.Hash[:]...), p.Length)
	}
	if m.Linked != nil {
		dst = cenc.AppendUint(dst, uint64(len(m.Linked)))
		for _, l := range m.Linked {
			dst = append(dst, l[:]...)
		}
	}
	if m.UserData != nil {
		dst = cenc.AppendBuffer(dst, m.UserData)
	}
	return dst
}

// Key is the core key the manifest makes (its hash).
func (m *Manifest) Key() [32]byte {
	return blake2b.Sum256(m.Append(append([]byte(nil), nsManifest[:]...)))
}

// Decode reads a manifest from the front of b (in a data message it is
// the last field) and returns the bytes after it.
func Decode(b []byte) (*Manifest, []byte, error) {
	d := cenc.NewDecoder(b)
	m := &Manifest{Version: d.Uint()}
	if d.Err() == nil && (m.Version == 0 || m.Version > 3) {
		return nil, nil, fmt.Errorf("%w: manifest version %d", ErrUnsupported, m.Version)
	}
	flags := d.Uint()
	if hash := d.Uint(); d.Err() == nil && hash != 0 {
		return nil, nil, fmt.Errorf("%w: hash function %d", ErrUnsupported, hash)
	}
	m.AllowPatch = flags&flagPatch != 0
	m.Quorum = d.Uint()
	n := d.Count(65, maxSigners)
	for i := 0; i < n && d.Err() == nil; i++ {
		if sig := d.Uint(); sig != 0 {
			return nil, nil, fmt.Errorf("%w: signature scheme %d", ErrUnsupported, sig)
		}
		m.Signers = append(m.Signers, Signer{Namespace: d.Fixed32(), PublicKey: d.Fixed32()})
	}
	if flags&flagPrologue != 0 {
		m.Prologue = &Prologue{Hash: d.Fixed32(), Length: d.Uint()}
	}
	if flags&flagLinked != 0 {
		k := d.Count(32, maxSigners)
		m.Linked = make([][32]byte, 0, k)
		for i := 0; i < k; i++ {
			m.Linked = append(m.Linked, d.Fixed32())
		}
	}
	if flags&flagUserData != 0 {
		m.UserData = append([]byte{}, d.Buffer()...)
	}
	if d.Err() != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, d.Err())
	}
	return m, d.Rest(), nil
}

// Signable is the 112 bytes each signer signs for a default-mode head.
func Signable(key, treeHash [32]byte, length, fork uint64) [112]byte {
	var out [112]byte
	copy(out[:32], nsTree[:])
	copy(out[32:64], key[:])
	copy(out[64:96], treeHash[:])
	binary.LittleEndian.PutUint64(out[96:], length)
	binary.LittleEndian.PutUint64(out[104:], fork)
	return out
}

// Verify checks a multisig envelope over the head (treeHash, length,
// fork) of the core m describes: Quorum distinct signers must sign.
func (m *Manifest) Verify(treeHash [32]byte, length, fork uint64, envelope []byte) error {
	if m.Quorum == 0 || m.Quorum > uint64(len(m.Signers)) {
		return fmt.Errorf("%w: quorum %d of %d signers", ErrSignature, m.Quorum, len(m.Signers))
	}
	if m.Prologue != nil && length <= m.Prologue.Length {
		return fmt.Errorf("%w: heads within the prologue", ErrUnsupported)
	}
	d := cenc.NewDecoder(envelope)
	n := d.Count(66, maxSigners)
	type proof struct {
		signer uint64
		sig    []byte
		patch  uint64
	}
	proofs := make([]proof, 0, n)
	for i := 0; i < n; i++ {
		proofs = append(proofs, proof{signer: d.Uint(), sig: d.Fixed(64), patch: d.Uint()})
	}
	patchNodes := d.Count(34, 1<<10)
	if d.Err() != nil {
		return fmt.Errorf("%w: signature envelope: %w", ErrMalformed, d.Err())
	}
	if patchNodes != 0 {
		return fmt.Errorf("%w: patched signatures", ErrUnsupported)
	}
	if uint64(len(proofs)) < m.Quorum {
		return fmt.Errorf("%w: %d signatures, quorum %d", ErrSignature, len(proofs), m.Quorum)
	}
	msg := Signable(m.Key(), treeHash, length, fork)
	tried := make([]bool, len(m.Signers))
	for _, p := range proofs[:m.Quorum] {
		if p.patch != 0 {
			return fmt.Errorf("%w: patched signatures", ErrUnsupported)
		}
		if p.signer >= uint64(len(m.Signers)) || tried[p.signer] {
			return fmt.Errorf("%w: signer %d", ErrSignature, p.signer)
		}
		tried[p.signer] = true
		if !ed25519.Verify(m.Signers[p.signer].PublicKey[:], msg[:], p.sig) {
			return fmt.Errorf("%w: signer %d", ErrSignature, p.signer)
		}
	}
	return nil
}
