package hypercore

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/folio-p2p/folio/book"
)

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(f string, a ...any) {
	panic(fmt.Sprintf(f, a...))
}

// openBook opens a book in a fresh Pebble store: writable when secret is
// given.
func openBook(t testing.TB, key ed25519.PublicKey, secret ed25519.PrivateKey) *book.Book {
	t.Helper()
	pdb, err := pebble.Open(t.TempDir(), &pebble.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := book.Open(pdb, []byte("b"), key, secret, &book.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); pdb.Close() })
	return b
}

// writer returns a writable book holding pages.
func writer(t testing.TB, sk ed25519.PrivateKey, pages ...[]byte) *book.Book {
	t.Helper()
	b := openBook(t, sk.Public().(ed25519.PublicKey), sk)
	if len(pages) > 0 {
		if _, err := b.Append(context.Background(), pages...); err != nil {
			t.Fatal(err)
		}
	}
	return b
}
