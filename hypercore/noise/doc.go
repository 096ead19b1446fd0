// Package noise runs the Noise handshake hypercore peers open every
// connection with — Noise_XX_Ed25519_ChaChaPoly_BLAKE2b, empty prologue
// and payloads — and the u24 length framing that carries it and
// everything after it.
//
// The "Ed25519" DH is not X25519: keys are Ed25519 signing key pairs and
// DH(seed, P) is the compressed Edwards point [clamp(SHA-512(seed)[:32])]P,
// as libsodium's crypto_scalarmult_ed25519_noclamp computes it. Like
// libsodium, DH refuses a non-canonical point, a point of small order or
// outside the prime-order subgroup, and an identity result, so a peer
// cannot force a predictable shared secret.
//
// The handshake itself is github.com/flynn/noise with that DH plugged in;
// this package adds the driver over a connection (bounded reads, context
// deadlines) and returns what the layers above need: the handshake hash
// and the raw split keys. It imports nothing of folio.
package noise
