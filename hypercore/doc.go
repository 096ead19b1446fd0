// Package hypercore replicates folio books with hypercore 11 peers over
// hypercore's own wire protocol, on direct TCP connections: a folio book
// served to a Node hypercore reader, a Node hypercore core fetched and
// verified into a read-only folio book. It sits beside package db's own
// replication and stores through package book only.
//
// The layers, bottom-up, are standalone packages: hypercore/noise (Noise
// XX with Ed25519 keys used for DH), hypercore/secretstream (libsodium's
// secretstream framing, keep-alives), hypercore/protomux (channels by
// protocol and discovery key), hypercore/wire (the ten message types),
// hypercore/manifest (default-mode identities) and hypercore/cenc
// (compact-encoding). This package adds the channel's
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
//     peer sends is stored before its hashes and signature verify. A
//     block asked with an upgrade has its path in place of the upgrade
//     node it reaches; it is stored after the upgrade, its path extended
//     to a signed root.
//
// # Sessions
//
// Fetch and Serve run one session per connection: the secret-stream, one
// protomux channel ("hypercore/alpha", the book's discovery key) and the
// capability check before anything else. A fetching side sends sync,
// asks for an upgrade whenever the peer's sync is ahead (from 0 when the
// peer moved to a newer fork), then for the pages the peer's range and
// bitfield messages announce, up to Options.MaxInflight at once. How many
// path nodes each page needs is predicted from the order pages are
// fetched in, so no storage is read to ask; a short guess fails to verify,
// stores nothing and is asked again with the whole path. A serving side
// answers from a snapshot (no_data when it cannot: other forks, hash and
// seek requests) and announces every append with sync and range, which is
// how appends reach connected readers. Keep-alives and the idle timeout
// are secretstream's; every field a peer sends is bounded by the wire
// layers before it is used.
//
// Only compat-mode cores (key = the author's Ed25519 public key, 80-byte
// signable, raw 64-byte signature) are replicated: that is folio's format.
// hypercore/manifest verifies default-mode heads (manifest key, 112-byte
// signable, multisig envelope) but book cannot store them yet.
// Node writers must be created with {compat: true}; a Node reader opened by
// key alone syncs a folio book and ends in compat mode.
package hypercore
