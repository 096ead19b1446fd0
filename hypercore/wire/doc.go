// Package wire holds hypercore 11's replication messages — the ten
// message types carried on a "hypercore/alpha" protomux channel and the
// channel's handshake — with their compact-encoding layouts.
//
// Each type encodes with Append and decodes with Decode (by type id).
// Decoding is bounded: counts are checked against the bytes left before
// anything is allocated, node arrays are capped at MaxNodes, and a block
// value aliases the frame it came in. Bytes after the last known field are
// ignored and unknown flag bits are dropped, as Node does, so newer peers
// still parse. Unknown type ids give ErrUnknownType, which a channel must
// ignore (hypercore registers more types than it sends).
//
// This package knows layouts only; what the fields mean for proofs
// (missing-node counts, upgrades with additional nodes) is the
// replicator's business. It imports nothing of folio but hypercore/cenc.
package wire
