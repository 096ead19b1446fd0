package manifest

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/folio-p2p/folio/hypercore/cenc"
	"github.com/folio-p2p/folio/hypercore/internal/fixture"
	"github.com/folio-p2p/folio/hypercore/wire"
	"golang.org/x/crypto/blake2b"
)

// capturedManifest returns the raw manifest the Node writer sent in the
// default-mode session's upgrade.
func capturedManifest(t *testing.T) []byte {
	_, s2c := fixture.Plaintexts(t, "default-mode")
	for _, f := range s2c {
		if len(f) > 2 && f[0] == 1 && f[1] == wire.TypeData {
			m, err := wire.Decode(wire.TypeData, f[2:])
			if err != nil {
				t.Fatal(err)
			}
			if d := m.(*wire.Data); d.Manifest != nil {
				return d.Manifest
			}
		}
	}
	t.Fatal("no manifest in the capture")
	return nil
}

// TestDefaultModeFixture: the manifest Node sent hashes to the core key,
// equals the default manifest of the writer's public key, and the
// recorded multisig signature verifies over the recorded head.
func TestDefaultModeFixture(t *testing.T) {
	s := fixture.Load(t, "default-mode")
	raw := capturedManifest(t)
	m, rest, err := Decode(raw)
	if err != nil || len(rest) != 0 {
		t.Fatalf("decode: %v, %d bytes left", err, len(rest))
	}
	if !bytes.Equal(m.Append(nil), raw) {
		t.Fatalf("re-encodes to %x, captured %x", m.Append(nil), raw)
	}
	key := m.Key()
	if hex.EncodeToString(key[:]) != s.Server.Key {
		t.Fatalf("key %x, recorded %s", key, s.Server.Key)
	}
	h, _ := blake2b.New256(key[:])
	h.Write([]byte("hypercore"))
	if hex.EncodeToString(h.Sum(nil)) != s.Server.DiscoveryKey {
		t.Fatal("discovery key differs")
	}
	pub := ed25519.NewKeyFromSeed(fixture.Hex(t, s.Server.WriterSeed)).Public().(ed25519.PublicKey)
	if def := Default(pub); !bytes.Equal(def.Append(nil), raw) {
		t.Fatalf("default manifest %x, Node's %x", def.Append(nil), raw)
	}
	var tree [32]byte
	copy(tree[:], fixture.Hex(t, s.Server.TreeHash))
	sig := fixture.Hex(t, s.Server.Signature)
	if err := m.Verify(tree, 10, 0, sig); err != nil {
		t.Fatalf("recorded signature: %v", err)
	}
	if err := m.Verify(tree, 11, 0, sig); !errors.Is(err, ErrSignature) {
		t.Fatalf("other length: %v", err)
	}
	bad := append([]byte(nil), sig...)
	bad[10] ^= 1
	if err := m.Verify(tree, 10, 0, bad); !errors.Is(err, ErrSignature) {
		t.Fatalf("tampered: %v", err)
	}
	// The compat fixture's reader assumed this default manifest for a
	// key-only core: its key is the public key, not this hash.
	if hex.EncodeToString(pub) == s.Server.Key {
		t.Fatal("default-mode key equals the public key")
	}
}

func TestEnvelopeBounds(t *testing.T) {
	m := Default(make([]byte, 32))
	huge := cenc.AppendUint(nil, 1<<40)
	if err := m.Verify([32]byte{}, 1, 0, huge); !errors.Is(err, ErrMalformed) {
		t.Fatalf("huge count: %v", err)
	}
	if _, _, err := Decode([]byte{0}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("version 0: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Default(make([]byte, 32)).Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, rest, err := Decode(b)
		if err != nil {
			return
		}
		enc := m.Append(nil)
		m2, _, err := Decode(enc)
		if err != nil || !bytes.Equal(m2.Append(nil), enc) {
			t.Fatalf("unstable: %x", b)
		}
		_ = rest
		_ = m.Verify([32]byte{}, 1, 0, b)
	})
}
