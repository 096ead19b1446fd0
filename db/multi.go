package db

import (
	"context"
	"fmt"

	"github.com/folio-p2p/folio/book"
)

// Append is one book's share of an AppendMulti: pages for one of this
// DB's writable books, with an optional check of its length.
type Append = book.MultiAppend

// AppendMulti appends to several of this DB's writable books as one
// atomic Pebble batch: one commit and one fsync (unless Options.NoSync or
// sync says otherwise), one signature per book, made in parallel. After a
// crash every book holds its new pages and signed head, or none does. Each
// book's subscribers and replication sessions hear of its append as after
// Book.Append. A book of another DB, or one given twice, is refused with
// book.ErrMultiAppend before anything is written; a read-only book with
// ErrReadOnly; a failed CheckLength with book.ErrLengthChanged, and then
// no book is written.
func (d *DB) AppendMulti(ctx context.Context, sync book.SyncMode, parts ...Append) ([]book.AppendResult, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	if err := d.owns(parts); err != nil {
		return nil, err
	}
	return book.AppendMulti(ctx, sync, parts)
}

// owns checks that every book of parts was opened by this DB (and the DB
// is open).
func (d *DB) owns(parts []Append) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	for i, pt := range parts {
		if pt.Book == nil || d.books[string(pt.Book.Key())] != pt.Book {
			return fmt.Errorf("db: %w: share %d is not a book of this DB", book.ErrMultiAppend, i)
		}
	}
	return nil
}
