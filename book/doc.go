// Package book is one signed, single-author, append-only book: the Go
// analogue of a hypercore, byte-compatible with hypercore 11 in compat mode.
//
// # Format
//
// A book is identified by its key, the author's Ed25519 public key. Pages
// are opaque bytes, indexed from 0. They are the leaves of a Merkle tree in
// flat-tree order (page i is node 2i; a parent sits between its children;
// a node's depth is its number of trailing one bits). Every node carries
// the byte size of its span, which is what Seek uses:
//
//	leaf   = BLAKE2b-256(0x00 ‖ u64le(len(page)) ‖ page)
//	parent = BLAKE2b-256(0x01 ‖ u64le(sizeL+sizeR) ‖ hashL ‖ hashR)
//	tree   = BLAKE2b-256(0x02 ‖ for each root: hash ‖ u64le(index) ‖ u64le(size))
//
// The roots of a book of length n are its perfect subtrees, one per set bit
// of n, largest first. The author signs, once per append batch and once per
// truncate, the 80 bytes
//
//	TREE_NS ‖ treeHash ‖ u64le(length) ‖ u64le(fork)
//
// with TREE_NS = BLAKE2b-256(BLAKE2b-256("hypercore") ‖ 0x00). Truncate
// moves to fork+1. The discovery key is BLAKE2b-256 keyed with the book key
// over "hypercore": knowing it lets peers find each other, not read.
//
// # Storage
//
// A book lives in a Pebble instance under a key prefix its owner (package
// db) assigns; see keys.go for the layout. Every append, truncate and
// verified proof is one atomic Pebble batch, so a crash leaves a book at a
// signed state it had, never between two. The head record holds the signed
// state and its roots, so opening a book is one read and one signature
// check, and memory does not grow with the number of pages.
//
// # Writers and readers
//
// A book opened with its secret key is writable: Append and Truncate sign.
// A book opened with its key alone is read-only: it grows only through
// ApplyProof, which verifies a Proof (a page with its Merkle path, and/or a
// signed head linked to the one held) before storing anything; it stores
// with the book's durability, or without an fsync with ApplyProofWith and
// SyncOff (a crash may then lose it and every later unsynced write, never
// tear it: the replica fetches it again; db syncs such proofs in groups).
// Its key is decoded once, at the first proof (verifykey.go: the same
// Ed25519 verification as crypto/ed25519's, which decodes the key on every
// call). A head of a
// newer fork voids what was stored under the old one, except the subtrees
// the two trees share: the leading roots of the new head whose node the
// book holds with the same hash keep every node and page below them
// (forkkeep.go), so a reader fetches only what the fork changed. Relays pass
// the author's signatures on; nothing is ever re-signed. Two valid heads of
// one fork that disagree are equivocation: the book freezes, both heads are
// kept (Evidence) and the EventListener hears of it.
//
// An append prepares its batch before taking the book's lock: pages are
// hashed in chunks of 64 aligned in the book, on every core, with the
// parents inside each chunk, while the caller copies each hashed chunk (its
// pages, then its parents in key order, which the memtable inserts
// cheapest) into the Pebble batch. Under the lock only the parents joining
// the chunks to the head's roots, the head, its signature and the commit
// remain (append_prep.go).
//
// AppendAsync lets one sequential writer keep a batch in flight: the next
// batch's pages are hashed and copied into its Pebble batch while the
// last one commits. The batches commit in the order of the calls, and one
// commits only if every earlier one did (append_async.go).
//
// Local readers learn of every change through Subscribe (a channel that
// always holds the newest state; writers never block on it) and Wait.
//
// The pure core — flat-tree math, grow and mergeTops (append), verifyProof — uses no
// storage, clock or goroutine and is tested on its own.
package book
