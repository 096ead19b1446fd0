// Package hypercore replicates folio books with hypercore 11 peers over
// hypercore's own wire protocol, on direct TCP connections: a folio book
// served to a Node hypercore reader, a Node hypercore core fetched and
// verified into a read-only folio book. It sits beside package db's own
// replication and stores through package book only.
//
// The layers, bottom-up, are standalone packages: hypercore/noise (Noise
// XX with Ed25519 keys used for DH), hypercore/secretstream (libsodium's
// secretstream framing, keep-alives), hypercore/protomux (channels by
// protocol and discovery key), hypercore/wire (the ten message types) and
// hypercore/cenc (compact-encoding). This package adds the channel's
// capability check and the translation between hypercore's proofs and
// book's:
//
//   - A hypercore proof lists nodes in a fixed order that its verifier
//     consumes one by one (see prove.go); a block request's Nodes counts
//     the siblings the requester lacks, 0 meaning none.
//   - An upgrade carries the nodes for the range asked, then
//     additionalNodes up to the signer's full length, because the
//     signature is always over the full length; toUpgrade rebuilds the
//     roots of that length and book.ApplyProof checks them, so nothing a
//     peer sends is stored before its hashes and signature verify.
//
// Only compat-mode cores (key = the author's Ed25519 public key, 80-byte
// signable, raw 64-byte signature) are supported: that is folio's format.
// Node writers must be created with {compat: true}; a Node reader opened by
// key alone syncs a folio book and ends in compat mode.
package hypercore
