// Package manifest reads hypercore 11's default-mode core identity: the
// manifest (hash function, signers and quorum), the core key derived from
// it, the 112-byte signable and the multisig signature envelope. Most of
// the hypercore ecosystem creates such cores; a compat-mode core (folio's
// format) is the special case whose key is its single signer's public key.
//
//	key      = BLAKE2b-256(MANIFEST_NS ‖ encode(manifest))
//	signable = TREE_NS ‖ key ‖ treeHash ‖ u64le(length) ‖ u64le(fork)
//	envelope = uint n ‖ n × (uint signer ‖ 64-byte signature ‖ uint patch)
//	           ‖ uint m ‖ m × node            (the patch nodes)
//
// A hypercore created with a key pair and no other options has the
// default manifest: version 1, BLAKE2b, quorum 1, one Ed25519 signer in
// DEFAULT_NAMESPACE. Verify checks an envelope against a manifest; patched
// signatures (allowPatch) and version-0 manifests are refused as
// unsupported rather than half-checked. Decoding is bounded like every
// decoder of the wire layers. The package imports nothing of folio but
// hypercore/cenc; it is not wired into storage yet (see hypercore's doc).
package manifest
