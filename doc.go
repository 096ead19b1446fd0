// Package folio is the root of the folio module: signed, single-author,
// append-only books stored in Pebble, for peer-to-peer apps. The code lives
// in the packages below it; see DESIGN.md and README.md. This package holds
// only the test that enforces the import layers: DESIGN.md's, plus two of ours between
// peer and cmd — api (the local API's wire types and client, above peer)
// and cli (a person's commands and the daemon, above devtools):
//
//	cmd/folio → cli → devtools → api → peer → vault → io, db/peerstore → db → book
//
// hypercore/ speaks hypercore 11's own replication protocol to Node peers
// over TCP. Its wire layers (hypercore/cenc, noise, secretstream, protomux,
// wire, manifest, each importing only those before it in that order) import nothing
// else of folio; the replicator, package hypercore, sits beside db and
// stores through book.
//
// internal/ holds helpers of no layer that any may import (they import
// nothing of folio): internal/safeterm escapes peers' text for terminals.
package folio
