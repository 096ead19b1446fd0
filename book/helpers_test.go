package book

import (
	"crypto/ed25519"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// openPebble opens a real Pebble on disk in a test directory.
func openPebble(t testing.TB) *pebble.DB {
	t.Helper()
	pdb, err := pebble.Open(t.TempDir(), &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pdb.Close() })
	return pdb
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic("pebble fatal")
}

// newWriter opens a writable book from a 32-byte seed.
func newWriter(t testing.TB, pdb *pebble.DB, prefix string, seed byte, opts *Options) *Book {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	sk := ed25519.NewKeyFromSeed(s)
	b, err := Open(pdb, []byte(prefix), sk.Public().(ed25519.PublicKey), sk, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// newReader opens a read-only book for key.
func newReader(t testing.TB, pdb *pebble.DB, prefix string, key ed25519.PublicKey, opts *Options) *Book {
	t.Helper()
	b, err := Open(pdb, []byte(prefix), key, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
