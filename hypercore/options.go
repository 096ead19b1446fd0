package hypercore

import (
	"errors"

	"github.com/folio-p2p/folio/hypercore/secretstream"
)

var (
	// ErrCapability means the peer's channel handshake does not prove it
	// knows the core key for this session: the stream is closed.
	ErrCapability = errors.New("hypercore: bad capability")
	// ErrIncomplete means the peer went away before Fetch reached its
	// signed length.
	ErrIncomplete = errors.New("hypercore: peer left before the book was complete")
	// ErrNotServed means the peer does not serve the core (it rejected or
	// closed the channel).
	ErrNotServed = errors.New("hypercore: peer does not serve this core")
)

// Options configure a replication session. The zero value is usable.
type Options struct {
	// Stream configures the encrypted transport (Noise static key,
	// keep-alive every 5 s, idle timeout 30 s, message limit).
	Stream secretstream.Options
	// Live keeps Fetch following the peer's appends after it reached the
	// peer's signed length, until ctx ends or the peer leaves. Default
	// false: Fetch returns once the book holds every page of the peer's
	// signed length.
	Live bool
	// MaxInflight bounds the block requests outstanding at once.
	// Default 64.
	MaxInflight int
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxInflight <= 0 {
		r.MaxInflight = 64
	}
	return r
}
