// Package cenc is the subset of the compact-encoding format (the npm
// module hypercore, protomux and secret-stream use) that hypercore's wire
// needs: uint, fixed-size byte strings, length-prefixed buffers and
// strings, and u32le arrays.
//
// A uint below 0xFD is one byte; 0xFD, 0xFE and 0xFF introduce a
// little-endian u16, u32 and u64. Decoding accepts non-minimal forms, as
// Node's decoder does, so that anything Node sends parses.
//
// Encoding appends to a caller's slice. Decoding reads from a Decoder over
// one whole message: every read is bounded by the bytes left, so a length
// prefix from a peer can never make it allocate more than the message
// holds. The first failure sticks (Err), so a message decodes as a run of
// reads and one error check at the end. This package imports nothing of
// folio.
package cenc
