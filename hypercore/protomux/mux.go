package protomux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/folio-p2p/folio/hypercore/cenc"
)

// Control message types on channel 0.
const (
	ctlBatch  = 0
	ctlOpen   = 1
	ctlReject = 2
	ctlClose  = 3
)

var (
	// ErrProtocol means the peer broke protomux's rules (malformed control
	// frame, out-of-order channel id, too many channels); the stream must
	// be closed.
	ErrProtocol = errors.New("protomux: protocol violation")
	// ErrClosed is returned when sending on a closed channel or mux.
	ErrClosed = errors.New("protomux: closed")
)

// Transport is a message stream (a *secretstream.Stream): Read returns
// one whole message; Write may be called concurrently.
type Transport interface {
	Read() ([]byte, error)
	Write([]byte) error
}

// Handler receives one channel's events, on the Run goroutine.
type Handler interface {
	// Opened is called once both sides opened the channel, with the
	// peer's handshake bytes. An error ends the whole stream.
	Opened(ch *Channel, handshake []byte) error
	// Message delivers one message. msg is valid only during the call.
	// An error ends the whole stream.
	Message(ch *Channel, typ uint64, msg []byte) error
	// Closed is called when the channel closes, by either side or because
	// the stream ended.
	Closed(ch *Channel)
}

// Options configure a Mux.
type Options struct {
	// OnOpen is offered every OPEN the peer sends for a (protocol, id) not
	// opened here yet; to accept, it calls Mux.Open for the same name
	// before returning. Default: reject everything.
	OnOpen func(m *Mux, protocol string, id []byte)
	// MaxChannels bounds the channels a peer may have open at once.
	// Default 128.
	MaxChannels int
}

// remote is a channel the peer opened: its OPEN's fields and, once
// paired, our Channel.
type remote struct {
	protocol  string
	id        []byte
	handshake []byte
	ch        *Channel
}

// Mux is one multiplexed stream.
type Mux struct {
	t    Transport
	opts Options

	mu     sync.Mutex
	local  []*Channel // by local id − 1; nil = free
	remote []*remote  // by remote id − 1; nil = free or rejected
	closed bool
}

// New returns a Mux over t. Call Run to start reading.
func New(t Transport, o *Options) *Mux {
	m := &Mux{t: t}
	if o != nil {
		m.opts = *o
	}
	if m.opts.MaxChannels <= 0 {
		m.opts.MaxChannels = 128
	}
	return m
}

// Open opens a channel (protocol, id) with the given handshake bytes and
// handler. Opened is called on the Run goroutine once the peer has opened
// the same name. Open the channels a stream starts with before calling
// Run: an OPEN read before its name is opened here goes to Options.OnOpen
// (or is rejected). If the peer's OPEN was already read, the channel pairs
// at once and Opened comes with the next message Run reads.
func (m *Mux) Open(protocol string, id, handshake []byte, h Handler) (*Channel, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	ch := &Channel{mux: m, protocol: protocol, id: id, h: h}
	slot := -1
	for i, c := range m.local {
		if c == nil {
			slot = i
			break
		}
	}
	if slot < 0 {
		slot = len(m.local)
		m.local = append(m.local, nil)
	}
	m.local[slot] = ch
	ch.localID = uint64(slot + 1)
	for i, r := range m.remote {
		if r != nil && r.ch == nil && r.protocol == protocol && bytes.Equal(r.id, id) {
			r.ch, ch.remoteID, ch.pendingHandshake = ch, uint64(i+1), r.handshake
			break
		}
	}
	m.mu.Unlock()

	msg := cenc.AppendUint([]byte{0, ctlOpen}, ch.localID)
	msg = cenc.AppendString(msg, protocol)
	msg = cenc.AppendBuffer(msg, id)
	if err := m.t.Write(append(msg, handshake...)); err != nil {
		return nil, err
	}
	return ch, nil
}

// Run reads and dispatches messages until the transport fails, the peer
// breaks the protocol, a handler returns an error or ctx ends (the caller
// must then close the transport to unblock it). Every channel's Closed is
// called before Run returns.
func (m *Mux) Run(ctx context.Context) error {
	defer m.shutdown()
	for ctx.Err() == nil {
		msg, err := m.t.Read()
		if err != nil {
			return err
		}
		if err := m.dispatch(msg); err != nil {
			return err
		}
		// Pairing from OnOpen happens inside dispatch; deliver Opened for
		// channels that paired while handling this frame.
		if err := m.deliverOpened(); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (m *Mux) dispatch(msg []byte) error {
	d := cenc.NewDecoder(msg)
	chID, typ := d.Uint(), d.Uint()
	if d.Err() != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, d.Err())
	}
	if chID != 0 {
		return m.deliver(chID, typ, d.Rest())
	}
	if typ == ctlBatch {
		return m.batch(d)
	}
	return m.control(typ, d)
}

// batch handles `uint channel ‖ { uint len ‖ (uint type ‖ message) }*`,
// where a zero len introduces a new channel id.
func (m *Mux) batch(d *cenc.Decoder) error {
	chID := d.Uint()
	for d.Err() == nil && d.Len() > 0 {
		n := d.Uint()
		if n == 0 {
			chID = d.Uint()
			continue
		}
		if n > uint64(d.Len()) {
			return fmt.Errorf("%w: batch entry of %d bytes, %d left", ErrProtocol, n, d.Len())
		}
		entry := cenc.NewDecoder(d.Fixed(int(n)))
		typ := entry.Uint()
		if entry.Err() != nil {
			return fmt.Errorf("%w: %w", ErrProtocol, entry.Err())
		}
		var err error
		switch {
		case chID != 0:
			err = m.deliver(chID, typ, entry.Rest())
		case typ == ctlBatch:
			err = fmt.Errorf("%w: batch inside a batch", ErrProtocol)
		default:
			err = m.control(typ, entry)
		}
		if err != nil {
			return err
		}
		if err := m.deliverOpened(); err != nil {
			return err
		}
	}
	if d.Err() != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, d.Err())
	}
	return nil
}
