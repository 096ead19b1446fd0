package noise

import (
	"crypto/ed25519"
	"testing"

	"filippo.io/edwards25519"
)

// addTorsion returns pub + t: on the curve, but outside the prime-order
// subgroup.
func addTorsion(t *testing.T, pub, torsion []byte) []byte {
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		t.Fatal(err)
	}
	q, err := new(edwards25519.Point).SetBytes(torsion)
	if err != nil {
		t.Fatal(err)
	}
	return new(edwards25519.Point).Add(p, q).Bytes()
}

// TestDHAgrees: both sides of a DH compute the same point.
func TestDHAgrees(t *testing.T) {
	pa, a, _ := ed25519.GenerateKey(nil)
	pb, b, _ := ed25519.GenerateKey(nil)
	x, err := DH(a, pb)
	if err != nil {
		t.Fatal(err)
	}
	y, err := DH(b, pa)
	if err != nil {
		t.Fatal(err)
	}
	if string(x) != string(y) {
		t.Fatalf("%x != %x", x, y)
	}
}
