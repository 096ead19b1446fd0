package db

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/folio-p2p/folio/db/pb"
)

// ProtocolID is the libp2p protocol of a replication stream. Version 2
// added pushes (a Data with id 0, session_push.go), which a version 1 peer
// would take for an answer to no request; so the two do not talk.
const ProtocolID = "/folio/replicate/2.0.0"

// ReplicateOptions configures one replication session. Zero fields mean
// the documented defaults.
type ReplicateOptions struct {
	// LocalID and RemoteID identify the two peers (their libp2p peer IDs in
	// production). Capabilities are bound to the pair. Required.
	LocalID, RemoteID []byte
	// Books are offered to the remote as soon as the session starts; any
	// other book of this DB opens when the remote offers it and proves it
	// knows the key. Default: none.
	Books []ed25519.PublicKey
	// Sparse makes this side fetch only the pages its local readers wait
	// for (Get on a missing page) instead of following every shared book.
	// Default false: download everything, then keep up.
	Sparse bool
	// MaxInflight bounds the requests this side has in flight. Default 32.
	MaxInflight int
	// MaxRangeBytes bounds the page bytes of one answer. Default 512 KiB.
	MaxRangeBytes int
	// MaxMessageSize bounds one incoming message. Default: the DB's
	// largest page plus 1 MiB.
	MaxMessageSize int
	// MaxQueuedBytes bounds the bytes queued for the remote; a remote that
	// makes us queue more (by flooding requests) ends the session.
	// Default 64 MiB.
	MaxQueuedBytes int
	// MaxPendingOffers bounds the remote's offers of books this DB does not
	// hold (yet) that the session remembers, so that a book added later
	// pairs with them. One more ends the session (ErrLimit). Each costs
	// about 150 bytes. Default 4,096 (600 KiB): a messenger peer offers a
	// member two books per task they share, its book for that member and
	// the member's for it, so one sharing all of 1,000 tasks of 32
	// members with us offers at most 1,000 we might not hold yet. A vault
	// that offers every book it holds to every peer may need more.
	MaxPendingOffers int
	// MaxRemoteChannels bounds the books the remote opens that this side
	// did not offer (each is a channel and a watch function here);
	// books this side offers do not count. One more ends the session
	// (ErrLimit). Default 4,096: twice the 2,000 pair books two members
	// of 1,000 shared tasks hold in common.
	MaxRemoteChannels int
	// Listener hears about the session. Default: none.
	Listener *ReplicationListener
}

// ReplicationListener holds callbacks for replication events; each may be
// nil. They run inside a step of the session (on its loop or its reader,
// holding the session's lock), so they must be quick and must not call
// the Session's methods: hand such work to another goroutine.
type ReplicationListener struct {
	// ChannelOpened: both sides share the book on this session.
	ChannelOpened func(remote []byte, key ed25519.PublicKey)
	// PeerError: the remote sent something that did not verify or broke the
	// protocol. The session ends unless the error is an equivocation (the
	// author's fault, not the peer's).
	PeerError func(remote []byte, err error)
	// SessionClosed: the session ended; err is nil for a clean end.
	SessionClosed func(remote []byte, err error)
}

func (o *ReplicateOptions) withDefaults(d *DB) ReplicateOptions {
	r := *o
	if r.MaxInflight <= 0 {
		r.MaxInflight = 32
	}
	if r.MaxRangeBytes <= 0 {
		r.MaxRangeBytes = 512 << 10
	}
	if r.MaxMessageSize <= 0 {
		page := d.opts.MaxPageSize
		if page <= 0 {
			page = 4 << 20
		}
		r.MaxMessageSize = page + 1<<20
	}
	if r.MaxQueuedBytes <= 0 {
		r.MaxQueuedBytes = 64 << 20
	}
	if r.MaxPendingOffers <= 0 {
		r.MaxPendingOffers = defaultMaxPendingOffers
	}
	if r.MaxRemoteChannels <= 0 {
		r.MaxRemoteChannels = defaultMaxRemoteChannels
	}
	if r.Listener == nil {
		r.Listener = &ReplicationListener{}
	}
	return r
}

// Session replicates every book two peers share over one byte stream.
type Session struct {
	d      *DB
	rw     io.ReadWriteCloser
	o      ReplicateOptions
	out    *outQueue
	eof    chan struct{} // closed by the reader when the remote ends the stream
	events chan func()
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	errOnce sync.Once
	err     error

	// mu guards the core's state below: the reader steps the core with
	// each message as it reads it, and the loop with each local change.
	mu sync.Mutex
	// ended: the loop ended, the core takes no more steps.
	ended  bool
	chans  map[uint32]*channel // by our channel number
	remote map[uint32]*channel // by the remote's channel number
	byKey  map[string]*channel
	// pending holds the remote's offers of books we did not hold yet, by
	// discovery key: a book added here later (an introduction racing its
	// own replication) pairs with them. Bounded by MaxPendingOffers.
	pending      map[[32]byte]offer
	pendingChan  map[uint32][32]byte // the pending offers by the remote's channel number
	remoteOpened int                 // books the remote opened that we did not offer
	nextChan     uint32
	nextReq      uint64
	inflight     int        // our requests awaiting an answer
	starved      []*channel // channels that found the window full, in turn
	// outbox holds what the core sent and the book operations it left in
	// the current step, in order; the shell (flush) queues the messages
	// and performs the operations (session_ops.go).
	outbox []effect
	// arena holds the pages of the proof being encoded (perform).
	arena []byte
	// dirty holds the channels whose book changed, for the loop
	// (session_wake.go); the books' watch functions fill it.
	dirty *dirtySet
}

// Replicate starts a replication session over rw with the peer identified
// in o. It returns at once; the session runs until the stream ends, the
// remote misbehaves, ctx is done, Close is called or the DB closes.
func (d *DB) Replicate(ctx context.Context, rw io.ReadWriteCloser, o ReplicateOptions) (*Session, error) {
	if len(o.LocalID) == 0 || len(o.RemoteID) == 0 {
		return nil, fmt.Errorf("db: replicate: LocalID and RemoteID are required")
	}
	if err := d.checkOpen(); err != nil {
		return nil, err
	}
	o = o.withDefaults(d)
	s := &Session{
		d: d, rw: rw, o: o, out: newOutQueue(),
		eof: make(chan struct{}), events: make(chan func(), 64), done: make(chan struct{}),
		chans: map[uint32]*channel{}, remote: map[uint32]*channel{}, byKey: map[string]*channel{}, pending: map[[32]byte]offer{}, pendingChan: map[uint32][32]byte{},
		nextChan: 1, nextReq: 1, dirty: newDirtySet(),
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	if !d.addSession(s) {
		return nil, ErrClosed
	}
	go func() {
		if err := s.out.run(rw); err != nil {
			s.fail(fmt.Errorf("db: replicate: write: %w", err))
		}
	}()
	err := s.openBooks(o.Books)
	if ferr := s.flush(); err == nil {
		err = ferr
	}
	go s.readLoop()
	go s.loop()
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openBooks offers keys before the reader handles the remote's first
// message, so that the remote's Opens of them pair with ours instead of
// counting against MaxRemoteChannels.
func (s *Session) openBooks(keys []ed25519.PublicKey) error {
	for _, k := range keys {
		if _, err := s.d.Info(k); err != nil {
			return err
		}
		s.openLocal(k)
	}
	return nil
}

// Open offers the book with key to the remote on this session. The book
// must be in this DB's catalogue.
func (s *Session) Open(key ed25519.PublicKey) error {
	if _, err := s.d.Info(key); err != nil {
		return err
	}
	return s.do(func() { s.openLocal(key) })
}

// do runs f on the session's loop goroutine.
func (s *Session) do(f func()) error {
	select {
	case s.events <- f:
		return nil
	case <-s.done:
		return s.Err()
	}
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended: nil while it runs or after a clean
// end (the stream closed, Close was called).
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close ends the session and closes the stream.
func (s *Session) Close() error {
	s.fail(nil)
	<-s.done
	return nil
}

// fail ends the session with err (nil for a clean end).
func (s *Session) fail(err error) {
	s.errOnce.Do(func() {
		s.err = err
		s.cancel()
		s.out.close()
		s.rw.Close()
	})
}

// readLoop reads the remote's messages and steps the core with each in
// turn, on this goroutine: a message is handled as soon as it is read,
// without a hand-off to the loop (the notify path), and one message at a
// time, so the remote's sending costs time, not memory, here. It ends
// the session when the stream fails or the remote breaks the protocol;
// at the remote's clean end, it tells the loop to end it.
func (s *Session) readLoop() {
	fr := newFrameReader(s.rw, s.o.MaxMessageSize)
	for {
		m, buf, err := fr.next()
		if err != nil {
			if errors.Is(err, io.EOF) && s.ctx.Err() == nil {
				close(s.eof) // every message before the end is handled
			} else if s.ctx.Err() != nil {
				s.fail(nil)
			} else {
				if errors.Is(err, ErrProtocol) { // not a stream that failed
					s.peerError(err)
				}
				s.fail(err)
			}
			return
		}
		s.mu.Lock()
		if s.ended {
			s.mu.Unlock()
			return
		}
		err = s.settle(s.step(m))
		s.mu.Unlock()
		fr.release(buf) // the step stored or copied what it keeps of m
		if err != nil {
			return // (settle ended the session)
		}
	}
}

// send is the core's output: m goes to the remote when the step ends.
func (s *Session) send(m *pb.Message) { s.outbox = append(s.outbox, effect{m: m}) }

// flush performs the core's output in order: it frames and queues the
// messages for the remote (too much queued ends the session) and performs
// the book operations, whose results the core handles at once, adding to
// the outbox. Then it wakes the writer goroutine, which sends the whole
// output in one write. The shell calls it after every step; an error is
// the remote's and ends the session.
func (s *Session) flush() error {
	defer s.out.wake()
	for i := 0; i < len(s.outbox); i++ {
		m, op := s.outbox[i].m, s.outbox[i].op
		s.outbox[i] = effect{}
		var f []byte
		var err error
		if op != nil {
			f, err = s.perform(op)
			if f == nil && err == nil {
				continue
			}
		} else {
			f, err = appendFrame(s.out.buffer(), m)
		}
		if err != nil {
			s.outbox = s.outbox[:0]
			if op == nil {
				s.fail(fmt.Errorf("db: replicate: encode: %w", err))
				return nil
			}
			return err
		}
		if s.out.push(f) > s.o.MaxQueuedBytes {
			s.outbox = s.outbox[:0]
			return fmt.Errorf("%w: over %d bytes queued for the remote (request flood?)", ErrProtocol, s.o.MaxQueuedBytes)
		}
	}
	s.outbox = s.outbox[:0]
	return nil
}

func (s *Session) peerError(err error) {
	if l := s.o.Listener.PeerError; l != nil {
		l(s.o.RemoteID, err)
	}
}

// addSession registers s so DB.Close ends it.
func (d *DB) addSession(s *Session) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	if d.sessions == nil {
		d.sessions = map[*Session]struct{}{}
	}
	d.sessions[s] = struct{}{}
	return true
}

func (d *DB) removeSession(s *Session) {
	d.mu.Lock()
	if !d.closed { // once closed, Close ranges over the map without the lock
		delete(d.sessions, s)
	}
	d.mu.Unlock()
}

// Defaults of ReplicateOptions, sized for the messenger (see the fields).
const (
	defaultMaxPendingOffers  = 4096
	defaultMaxRemoteChannels = 4096
)
