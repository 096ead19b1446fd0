package secretstream

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/folio-p2p/folio/hypercore/noise"
)

var (
	// ErrBadHeader means the peer's header frame is malformed or its
	// stream id is not the one this handshake gives the other role.
	ErrBadHeader = errors.New("secretstream: bad header frame")
	// ErrTooLarge means a message exceeds Options.MaxMessage.
	ErrTooLarge = errors.New("secretstream: message too large")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("secretstream: closed")
)

// Options configure a Stream. The zero value is usable.
type Options struct {
	// Noise configures the handshake; Initiator is set from New's
	// argument. Default: random static key, 10 s handshake timeout.
	Noise noise.Config
	// KeepAlive is how long the stream may go without writing before it
	// sends an empty message. Default 5 s (Node's replicate() default);
	// negative disables.
	KeepAlive time.Duration
	// Timeout closes the stream when nothing (keep-alives included) has
	// arrived for that long. Default 30 s; negative disables.
	Timeout time.Duration
	// MaxMessage bounds a plaintext message. Default and maximum: the
	// largest a u24 frame can carry (16 MiB − 18 bytes).
	MaxMessage int
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.KeepAlive == 0 {
		r.KeepAlive = 5 * time.Second
	}
	if r.Timeout == 0 {
		r.Timeout = 30 * time.Second
	}
	if r.MaxMessage <= 0 || r.MaxMessage > noise.MaxFrame-Overhead {
		r.MaxMessage = noise.MaxFrame - Overhead
	}
	return r
}

// Stream is an encrypted, message-framed connection to one peer. Read is
// for one goroutine; Write may be called from several.
type Stream struct {
	conn      net.Conn
	rd        *bufio.Reader // after the handshake: fewer read calls for small frames
	opts      Options
	hs        *noise.Result
	initiator bool
	pull      *Puller

	wmu       sync.Mutex
	push      *Pusher
	keepAlive *time.Timer
	closed    atomic.Bool
}

// New runs the handshake over conn as initiator (the side that dialled)
// or responder, exchanges header frames and returns the Stream. On error
// conn is left open for the caller to close.
func New(ctx context.Context, conn net.Conn, initiator bool, o *Options) (*Stream, error) {
	opts := o.withDefaults()
	cfg := opts.Noise
	cfg.Initiator = initiator
	hs, err := noise.Handshake(ctx, conn, cfg)
	if err != nil {
		return nil, err
	}
	s := &Stream{conn: conn, rd: bufio.NewReaderSize(conn, 64<<10), opts: opts, hs: hs, initiator: initiator}
	if err := s.exchangeHeaders(ctx); err != nil {
		return nil, err
	}
	if opts.KeepAlive > 0 {
		// Under wmu: the first keep-alive may fire before the assignment.
		s.wmu.Lock()
		s.keepAlive = time.AfterFunc(opts.KeepAlive, s.sendKeepAlive)
		s.wmu.Unlock()
	}
	return s, nil
}

func (s *Stream) exchangeHeaders(ctx context.Context) error {
	dl := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = s.conn.SetDeadline(dl)
	defer s.conn.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	header := make([]byte, HeaderSize)
	if _, err := rand.Read(header); err != nil {
		return err
	}
	push, err := NewPusher(s.hs.Tx[:], header)
	if err != nil {
		return err
	}
	s.push = push
	id := StreamID(s.hs.Hash, s.initiator)
	if err := noise.WriteFrame(s.conn, append(id[:], header...)); err != nil {
		return err
	}
	msg, err := noise.ReadFrame(s.rd, 32+HeaderSize)
	if err != nil {
		if errors.Is(err, noise.ErrFrameTooLarge) {
			return fmt.Errorf("%w: %w", ErrBadHeader, err)
		}
		return err
	}
	want := StreamID(s.hs.Hash, !s.initiator)
	if len(msg) != 32+HeaderSize || subtle.ConstantTimeCompare(msg[:32], want[:]) != 1 {
		return ErrBadHeader
	}
	s.pull, err = NewPuller(s.hs.Rx[:], msg[32:])
	return err
}

// HandshakeHash is the Noise handshake hash this stream is bound to.
func (s *Stream) HandshakeHash() [64]byte { return s.hs.Hash }

// Initiator reports whether this side dialled (Noise initiator).
func (s *Stream) Initiator() bool { return s.initiator }

// RemotePublicKey is the peer's Noise static key.
func (s *Stream) RemotePublicKey() ed25519.PublicKey { return s.hs.RemoteStatic }

// Read returns the next non-empty message. Keep-alives are dropped. Any
// error (including a forged frame or the idle timeout) is final: the
// caller must Close.
func (s *Stream) Read() ([]byte, error) {
	for {
		if s.opts.Timeout > 0 {
			_ = s.conn.SetReadDeadline(time.Now().Add(s.opts.Timeout))
		}
		frame, err := noise.ReadFrame(s.rd, s.opts.MaxMessage+Overhead)
		if err != nil {
			if errors.Is(err, noise.ErrFrameTooLarge) {
				err = fmt.Errorf("%w: %w", ErrTooLarge, err)
			}
			return nil, err
		}
		m, _, err := s.pull.Pull(frame)
		if err != nil {
			return nil, err
		}
		if len(m) > 0 {
			return m, nil
		}
	}
}

// Write seals and sends one message. An empty message is a keep-alive.
func (s *Stream) Write(m []byte) error {
	if len(m) > s.opts.MaxMessage {
		return ErrTooLarge
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	buf := noise.AppendFrameHeader(make([]byte, 0, 3+len(m)+Overhead), len(m)+Overhead)
	buf = s.push.Push(buf, m, TagMessage)
	if s.keepAlive != nil {
		s.keepAlive.Reset(s.opts.KeepAlive)
	}
	_, err := s.conn.Write(buf)
	return err
}

func (s *Stream) sendKeepAlive() { _ = s.Write(nil) }

// Close stops the keep-alives and closes the connection, which also
// unblocks a Read or Write in progress (so it takes no lock).
func (s *Stream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.keepAlive != nil {
		s.keepAlive.Stop()
	}
	return s.conn.Close()
}
