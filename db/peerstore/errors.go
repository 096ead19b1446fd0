package peerstore

import "errors"

// Sentinel errors, checked with errors.Is. Errors from the book and DB
// layers (book.ErrClosed, book.ErrCorrupt, …) are wrapped unchanged.
var (
	// ErrClosed: the peerstore was closed; writes still change the
	// in-memory books but are no longer journaled.
	ErrClosed = errors.New("peerstore: closed")
	// ErrCorrupt: a journal page could not be decoded or applied. The
	// error names the page.
	ErrCorrupt = errors.New("peerstore: corrupt journal")
	// ErrUnsupportedValue: a metadata value whose Go type the journal
	// cannot keep (see the package doc for the list). Put refuses it and
	// stores nothing.
	ErrUnsupportedValue = errors.New("peerstore: unsupported metadata value type")
	// ErrValueTooLarge: a metadata value larger than Options.MaxValueSize.
	ErrValueTooLarge = errors.New("peerstore: metadata value too large")
	// ErrTooManyProtocols: adding the protocols would pass
	// Options.MaxProtocols. Its text is go-libp2p's ("too many
	// protocols"), which callers and the libp2p suites compare against.
	ErrTooManyProtocols = errors.New("too many protocols")
	// ErrKeyMismatch: the key does not belong to the peer ID.
	ErrKeyMismatch = errors.New("peerstore: key does not match the peer ID")
	// ErrTooManyRecords: ConsumePeerRecord for a new peer when
	// Options.MaxSignedPeerRecords records are held already.
	ErrTooManyRecords = errors.New("peerstore: too many signed peer records")
)

// ErrNotHostPeerstore: AttachHost was given a host whose peerstore is not
// this one.
var ErrNotHostPeerstore = errors.New("peerstore: the host does not use this peerstore")
