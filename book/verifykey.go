package book

import (
	"crypto/ed25519"
	"crypto/sha512"

	"filippo.io/edwards25519"
)

// verifyKey is a book key decoded once for verifying. ed25519.Verify
// decodes the public key on every call — a square root in the field, some
// 5 µs of a 43 µs verification here — and a read-only book verifies every
// head it is sent against the same key (each replicated push or answer:
// on the notify path, the reader's largest cost after the store).
type verifyKey struct {
	key  []byte              // the 32 encoded bytes, hashed into every challenge
	negA *edwards25519.Point // −A; nil when key is not a point: nothing verifies
}

func newVerifyKey(key ed25519.PublicKey) *verifyKey {
	k := &verifyKey{key: key}
	if len(key) != ed25519.PublicKeySize {
		return k
	}
	if a, err := new(edwards25519.Point).SetBytes(key); err == nil {
		k.negA = new(edwards25519.Point).Negate(a)
	}
	return k
}

// verify reports whether sig is a valid Ed25519 signature of msg by the
// key. It is crypto/ed25519.Verify step for step (the same package's
// arithmetic, which Go's own is a copy of): the key decoded as Go decodes
// it, S canonical, the top bits of the signature clear, and [S]B − [k]A
// encoded and compared with R byte for byte, k = SHA-512(R ‖ A ‖ msg).
// verifykey_test.go holds it to ed25519.Verify on valid and altered
// inputs.
func (k *verifyKey) verify(msg, sig []byte) bool {
	if k.negA == nil || len(sig) != ed25519.SignatureSize || sig[63]&224 != 0 {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(k.key)
	h.Write(msg)
	var d [sha512.Size]byte
	kh, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(d[:0]))
	if err != nil {
		return false
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	r := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(kh, k.negA, s)
	return string(r.Bytes()) == string(sig[:32])
}
