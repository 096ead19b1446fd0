package hypercore

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/folio-p2p/folio/book"
)

// Fetch replicates the core b (a read-only book opened by the core's
// key) from the peer on conn until b holds every page of the peer's
// signed length (or, with Options.Live, until ctx ends or the peer
// leaves). initiator is true on the side that dialled. Every page and
// head is verified by b.ApplyProof before it is stored. conn is closed on
// return.
func Fetch(ctx context.Context, conn net.Conn, initiator bool, b *book.Book, o *Options) error {
	return run(ctx, conn, initiator, b, o, true)
}

// Serve answers the peer on conn from b — any book, the author's or a
// verified copy — and pushes b's appends to it, until the peer leaves
// (nil) or ctx ends. conn is closed on return.
func Serve(ctx context.Context, conn net.Conn, initiator bool, b *book.Book, o *Options) error {
	return run(ctx, conn, initiator, b, o, false)
}

// ServeListener accepts connections on ln and serves b on each, as the
// Noise responder, until ctx ends. onErr, if not nil, hears how each
// connection ended.
func ServeListener(ctx context.Context, ln net.Listener, b *book.Book, o *Options, onErr func(error)) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		go func() {
			err := Serve(ctx, conn, false, b, o)
			if onErr != nil {
				onErr(err)
			}
		}()
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET)
}
