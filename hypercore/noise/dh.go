package noise

import (
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"io"

	"filippo.io/edwards25519"
	fnoise "github.com/flynn/noise"
)

// ErrBadPoint means a peer's Noise public key (or the DH result) is one
// libsodium would refuse: not canonical, not on the curve, of small order,
// outside the prime-order subgroup, or giving the identity.
var ErrBadPoint = errors.New("noise: bad Ed25519 point")

// lMinusOne is the group order minus one, little-endian; [l-1]P = -P holds
// exactly for P in the prime-order subgroup.
var lMinusOne = [32]byte{
	0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
}

// ed25519DH is flynn/noise's DHFunc for hypercore's "Ed25519" DH. A DHKey's
// Private is a 64-byte ed25519.PrivateKey (seed ‖ public).
type ed25519DH struct{}

func (ed25519DH) GenerateKeypair(rng io.Reader) (fnoise.DHKey, error) {
	pub, priv, err := ed25519.GenerateKey(rng)
	if err != nil {
		return fnoise.DHKey{}, err
	}
	return fnoise.DHKey{Private: priv, Public: pub}, nil
}

func (ed25519DH) DH(priv, pub []byte) ([]byte, error) { return DH(ed25519.PrivateKey(priv), pub) }
func (ed25519DH) DHLen() int                          { return 32 }
func (ed25519DH) DHName() string                      { return "Ed25519" }

// DH computes hypercore's Ed25519 Diffie-Hellman of the secret key priv
// with the peer's public point pub.
func DH(priv ed25519.PrivateKey, pub []byte) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("noise: bad private key size")
	}
	p, err := checkPoint(pub)
	if err != nil {
		return nil, err
	}
	h := sha512.Sum512(priv.Seed())
	a, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		return nil, err
	}
	// a is reduced mod l by SetBytesWithClamping; for P in the prime-order
	// subgroup (checked) that gives the same point as libsodium's
	// unreduced clamped scalar.
	q := new(edwards25519.Point).ScalarMult(a, p)
	if q.Equal(edwards25519.NewIdentityPoint()) == 1 {
		return nil, ErrBadPoint
	}
	return q.Bytes(), nil
}

// checkPoint decodes pub with libsodium's checks.
func checkPoint(pub []byte) (*edwards25519.Point, error) {
	if len(pub) != 32 {
		return nil, ErrBadPoint
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil, ErrBadPoint
	}
	// SetBytes accepts non-canonical encodings (y ≥ p); re-encoding
	// reveals them.
	if subtle.ConstantTimeCompare(p.Bytes(), pub) != 1 {
		return nil, ErrBadPoint
	}
	id := edwards25519.NewIdentityPoint()
	if new(edwards25519.Point).MultByCofactor(p).Equal(id) == 1 {
		return nil, ErrBadPoint // small order (identity included)
	}
	lm1, _ := edwards25519.NewScalar().SetCanonicalBytes(lMinusOne[:])
	if new(edwards25519.Point).ScalarMult(lm1, p).Equal(new(edwards25519.Point).Negate(p)) != 1 {
		return nil, ErrBadPoint // has a torsion component
	}
	return p, nil
}
