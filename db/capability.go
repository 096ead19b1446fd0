package db

import (
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/binary"

	"golang.org/x/crypto/blake2b"
)

// capabilitySize is the length of a capability: one BLAKE2b-256 sum.
const capabilitySize = 32

// capabilityNS separates folio's capabilities from every other use of a
// book key as a BLAKE2b key.
var capabilityNS = blake2b.Sum256([]byte("folio/replicate/capability/v1"))

// capability proves, on one session, that its sender knows a book's key:
// BLAKE2b-256 keyed with the book key over
// NS ‖ u16(len sender) ‖ sender ‖ u16(len receiver) ‖ receiver.
// It names both peers, so it is worthless to anyone else, on any other
// connection, and reveals nothing of the key.
func capability(key ed25519.PublicKey, sender, receiver []byte) []byte {
	h, _ := blake2b.New256(key)
	h.Write(capabilityNS[:])
	for _, id := range [][]byte{sender, receiver} {
		h.Write(binary.BigEndian.AppendUint16(nil, uint16(len(id))))
		h.Write(id)
	}
	return h.Sum(nil)
}

// checkCapability reports whether c proves that sender knows key.
func checkCapability(key ed25519.PublicKey, sender, receiver, c []byte) bool {
	return subtle.ConstantTimeCompare(capability(key, sender, receiver), c) == 1
}
