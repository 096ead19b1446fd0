package hypercore

import (
	"crypto/ed25519"

	"github.com/folio-p2p/folio/hypercore/secretstream"
	"golang.org/x/crypto/blake2b"
)

// Protocol is the protomux protocol name of a hypercore channel.
const Protocol = "hypercore/alpha"

// hypercore-crypto's namespaces: 0 TREE, 1 REPLICATE_INITIATOR,
// 2 REPLICATE_RESPONDER, …
var coreNS = secretstream.Namespace("hypercore", 6)

// Capability is what a side proves on opening a core's channel: that it
// knows the core key, bound to this Noise session (keyed with the
// handshake hash) and to its role, so it cannot be replayed elsewhere.
func Capability(handshakeHash [64]byte, initiator bool, key ed25519.PublicKey) [32]byte {
	ns := coreNS[2]
	if initiator {
		ns = coreNS[1]
	}
	h, _ := blake2b.New256(handshakeHash[:])
	h.Write(ns[:])
	h.Write(key)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
