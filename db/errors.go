package db

import (
	"errors"

	"github.com/folio-p2p/folio/book"
)

// Sentinel errors, checked with errors.Is. Those shared with package book
// are the same values, so a test against either name matches.
var (
	ErrClosed   = book.ErrClosed
	ErrNotFound = book.ErrNotFound
	ErrReadOnly = book.ErrReadOnly
	ErrCorrupt  = book.ErrCorrupt
	ErrTooLarge = book.ErrTooLarge
	ErrLocked   = errors.New("db: in use by another process")
	ErrBadName  = errors.New("db: bad book name")
)
