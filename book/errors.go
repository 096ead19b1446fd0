package book

import "errors"

// Sentinel errors. Every error a book returns wraps one of these (or a
// context or Pebble error), so callers test with errors.Is.
var (
	ErrClosed        = errors.New("book: closed")
	ErrNotFound      = errors.New("book: not found")
	ErrReadOnly      = errors.New("book: read-only (no secret key)")
	ErrCorrupt       = errors.New("book: corrupt")
	ErrTooLarge      = errors.New("book: too large")
	ErrLengthChanged = errors.New("book: length is not the expected length")
	ErrVerify        = errors.New("book: verification failed")
	ErrStale         = errors.New("book: stale head")
	ErrEquivocation  = errors.New("book: equivocation (two signed heads disagree)")
	ErrFrozen        = errors.New("book: frozen after equivocation")
	ErrOutOfRange    = errors.New("book: out of range")
	// ErrMultiAppend: the books of one AppendMulti do not share one
	// Pebble, or one of them appears twice.
	ErrMultiAppend = errors.New("book: books of one multi-book append must be distinct and share one Pebble")
	// ErrAsyncFailed: an earlier AppendAsync of the book failed, and this
	// one was made before Wait had returned that failure.
	ErrAsyncFailed = errors.New("book: an earlier async append failed")
)
