package db

import (
	"crypto/ed25519"

	"golang.org/x/crypto/blake2b"
)

// namespace prefixes every derivation, so folio's names never collide with
// another scheme's use of the same primary key.
var namespace = blake2b.Sum256([]byte("folio/books/v1"))

// deriveKeypair returns the keypair of the book called name:
// seed = BLAKE2b-256 keyed with the primary key over namespace ‖ name
// (corestore's scheme), so a name always maps to the same book.
func deriveKeypair(primary [32]byte, name string) ed25519.PrivateKey {
	h, _ := blake2b.New256(primary[:])
	h.Write(namespace[:])
	h.Write([]byte(name))
	return ed25519.NewKeyFromSeed(h.Sum(nil))
}
