// Package db holds many books in one Pebble instance: the Go analogue of
// corestore.
//
// One DB is one directory and one Pebble; a lock file keeps a second
// process out (ErrLocked). On first open the DB creates a random 32-byte
// primary key. A named book's keypair derives from it,
//
//	seed = BLAKE2b-256(key = primary key, namespace ‖ name)
//
// so Book(ctx, "chat") is the same writable book after every restart, and
// no secret key is ever stored or returned: it is derived when the book
// opens. Books opened by key alone (OpenKey) are read-only and grow only by
// verified proofs.
//
// The catalogue records every book: its pointer (a small integer used as
// the book's key prefix), key, discovery key, and for writable books the
// name. See keys.go for the key layout and catalogue.go for the record.
//
// Every append is one atomic Pebble batch (pages, new tree nodes, signed
// head), synced unless Options.NoSync or the append's own option says
// otherwise. DeleteBook and Clear use range deletions and then compact the
// range, so disk space comes back at once.
//
// Replication between DBs (the next layer of this package) runs over any
// byte stream and uses the books' proofs; it never re-signs.
package db
