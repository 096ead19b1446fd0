// Package secretstream is hyperswarm's secret-stream over a TCP
// connection: a Noise handshake (package hypercore/noise), one header
// frame each way, then every message sealed with libsodium's
// crypto_secretstream_xchacha20poly1305 (TAG_MESSAGE, no additional data).
//
// The header frame is streamId(32) ‖ secretstream header(24): streamId is
// BLAKE2b-256 keyed with the handshake hash over the sender's role
// namespace (NS_INITIATOR or NS_RESPONDER, derived from
// "hyperswarm/secret-stream"), so a receiver can tell the stream is bound
// to this handshake and to a peer of the other role.
//
// The libsodium construction is written here on golang.org/x/crypto
// (HChaCha20, ChaCha20 with a set counter, Poly1305), including its quirks:
// the padding after the message is len(m) mod 16 bytes, the MAC is XORed
// into the 8-byte inner nonce after each message, and the key is re-derived
// when the 32-bit counter wraps or a REKEY tag is seen.
//
// Zero-length messages are keep-alives: Stream sends one when it has
// written nothing for Options.KeepAlive and drops those it receives, and
// closes a connection that has been silent for Options.Timeout. Each frame
// is bounded (Options.MaxMessage) before it is allocated, and a frame that
// fails authentication ends the stream. This package imports nothing of
// folio but hypercore/noise.
package secretstream
