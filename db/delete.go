package db

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// DeleteBook removes a book, its pages, nodes and catalogue entries, with
// range deletions, then compacts its range so the space returns at once.
// An open handle to it is closed.
func (d *DB) DeleteBook(ctx context.Context, key ed25519.PublicKey) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	in, err := d.info(key)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	if b, ok := d.books[string(key)]; ok {
		b.Close()
		delete(d.books, string(key))
	}
	start, end := bookRange(in.Pointer)
	batch := d.pdb.NewBatch()
	_ = batch.DeleteRange(start, end, nil)
	_ = batch.Delete(keyByKey(key), nil)
	_ = batch.Delete(keyByDKey(in.DiscoveryKey[:]), nil)
	if in.Name != "" {
		_ = batch.Delete(keyByName(in.Name), nil)
	}
	err = batch.Commit(pebble.Sync)
	batch.Close()
	d.mu.Unlock()
	if err != nil {
		return fmt.Errorf("db: delete book: %w", err)
	}
	return d.pdb.Compact(ctx, start, end, true)
}

// Clear deletes the pages [start, end) of the book with key (see
// book.Book.Clear) and compacts them away so the space returns at once.
// A book not in the catalogue gives ErrNotFound (and is not added).
func (d *DB) Clear(ctx context.Context, key ed25519.PublicKey, start, end uint64) error {
	if _, err := d.Info(key); err != nil {
		return err
	}
	b, err := d.OpenKey(ctx, key)
	if err != nil {
		return err
	}
	if err := b.Clear(ctx, start, end); err != nil {
		return err
	}
	return b.Compact(ctx)
}

// Compact flushes the memtables and compacts the whole DB, so deleted
// data gives its space back and reads meet a settled LSM. It can take a
// while on a large DB; ctx bounds it.
func (d *DB) Compact(ctx context.Context) error {
	if err := d.checkOpen(); err != nil {
		return err
	}
	if err := d.pdb.Flush(); err != nil {
		return err
	}
	return d.pdb.Compact(ctx, []byte{0}, []byte{0xff}, true)
}
