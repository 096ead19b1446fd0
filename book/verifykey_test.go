package book

import (
	"crypto/ed25519"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
)

// agree fails the test unless verifyKey and ed25519.Verify give the same
// verdict on (key, msg, sig); it returns the verdict.
func agree(t testing.TB, key, msg, sig []byte) bool {
	t.Helper()
	want := len(key) == ed25519.PublicKeySize && ed25519.Verify(key, msg, sig)
	if got := newVerifyKey(key).verify(msg, sig); got != want {
		t.Fatalf("verifyKey says %v, ed25519.Verify %v\nkey %x\nmsg %x\nsig %x", got, want, key, msg, sig)
	}
	return want
}

// TestVerifyKeyAgrees: the key decoded once verifies exactly what
// crypto/ed25519 verifies: valid signatures, and none of the signature,
// message or key altered in any one bit, a non-canonical S, a key that is
// no point, the identity key.
func TestVerifyKeyAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seed := make([]byte, ed25519.SeedSize)
	for n := range 4 {
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		priv := ed25519.NewKeyFromSeed(seed)
		key := priv.Public().(ed25519.PublicKey)
		msg := make([]byte, SignableSize+n) // a head's signable bytes, and others
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		sig := ed25519.Sign(priv, msg)
		if !agree(t, key, msg, sig) {
			t.Fatal("a valid signature does not verify")
		}
		for _, b := range []struct {
			name string
			buf  []byte
		}{{"signature", sig}, {"message", msg}, {"key", key}} {
			for bit := range len(b.buf) * 8 {
				alt := func() { b.buf[bit/8] ^= 1 << (bit % 8) }
				alt()
				if agree(t, key, msg, sig) {
					t.Fatalf("verifies with bit %d of the %s flipped", bit, b.name)
				}
				alt()
			}
		}
		// S + ℓ encodes the same scalar, not canonically: refused.
		alt := append([]byte(nil), sig...)
		addOrder(alt[32:])
		if agree(t, key, msg, alt) {
			t.Fatal("verifies with a non-canonical S")
		}
		if agree(t, key, msg, sig[:63]) || agree(t, key, msg, append(sig, 0)) {
			t.Fatal("verifies a signature of the wrong length")
		}
	}

	// A key that is not a point: nothing verifies (and nothing panics).
	bad := make([]byte, 32)
	for y := uint64(2); ; y++ {
		binary.LittleEndian.PutUint64(bad, y)
		if _, err := new(edwards25519.Point).SetBytes(bad); err != nil {
			break
		}
	}
	if agree(t, bad, []byte("m"), make([]byte, 64)) {
		t.Fatal("a key that is no point verifies")
	}
	if agree(t, bad[:31], []byte("m"), make([]byte, 64)) {
		t.Fatal("a short key verifies")
	}
	// The identity as key, R the identity and S zero: [0]B − [k]O = O = R
	// for every message. Go's verification accepts it; so must ours.
	id := make([]byte, 32)
	id[0] = 1
	sig := make([]byte, 64)
	sig[0] = 1
	if !agree(t, id, []byte("any"), sig) {
		t.Fatal("want the identity key's trivial signature to verify, as Go's does")
	}
}

// addOrder adds ℓ, the order of the base point, to the little-endian
// 256-bit number s in place.
func addOrder(s []byte) {
	l := [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	carry := 0
	for i := range s {
		v := int(s[i]) + int(l[i]) + carry
		s[i], carry = byte(v), v>>8
	}
}

// FuzzVerifyKey: on any key, message and signature the two agree.
func FuzzVerifyKey(f *testing.F) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	msg := make([]byte, SignableSize)
	f.Add([]byte(priv.Public().(ed25519.PublicKey)), msg, ed25519.Sign(priv, msg))
	f.Add(make([]byte, 32), msg, make([]byte, 64))
	f.Fuzz(func(t *testing.T, key, msg, sig []byte) {
		agree(t, key, msg, sig)
	})
}

func BenchmarkVerifyHead(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	key := priv.Public().(ed25519.PublicKey)
	msg := make([]byte, SignableSize)
	sig := ed25519.Sign(priv, msg)
	b.Run("ed25519.Verify", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(key, msg, sig) {
				b.Fatal("does not verify")
			}
		}
	})
	b.Run("verifyKey", func(b *testing.B) {
		k := newVerifyKey(key)
		for b.Loop() {
			if !k.verify(msg, sig) {
				b.Fatal("does not verify")
			}
		}
	})
}
