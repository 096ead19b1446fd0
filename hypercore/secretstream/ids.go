package secretstream

import "golang.org/x/crypto/blake2b"

// Namespace derives hypercore-crypto's namespace ids: with
// ns = BLAKE2b-256(name), id i is BLAKE2b-256(ns ‖ byte(i)).
func Namespace(name string, count int) [][32]byte {
	ns := blake2b.Sum256([]byte(name))
	out := make([][32]byte, count)
	for i := range out {
		out[i] = blake2b.Sum256(append(ns[:], byte(i)))
	}
	return out
}

// streamNS are secret-stream's INITIATOR, RESPONDER and SEND namespaces.
var streamNS = Namespace("hyperswarm/secret-stream", 3)

// StreamID is the id a side of the given role sends in its header frame.
func StreamID(handshakeHash [64]byte, initiator bool) [32]byte {
	ns := streamNS[1]
	if initiator {
		ns = streamNS[0]
	}
	h, _ := blake2b.New256(handshakeHash[:])
	h.Write(ns[:])
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
