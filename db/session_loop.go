package db

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/folio-p2p/folio/db/pb"
)

// maxRangePages bounds the pages one request asks for; the answer is
// further bounded in bytes by the responder.
const maxRangePages = 4096

// loop steps the core with every local change and Open, in turn with the
// reader's steps (Session.mu), and ends the session: when the remote ends
// the stream, ctx is done or a step failed.
func (s *Session) loop() {
	defer func() {
		s.mu.Lock()
		s.ended = true // after a step the reader is in, before any other
		s.unwatchAll()
		s.mu.Unlock()
		s.fail(nil) // no-op if already failed
		close(s.done)
		s.d.removeSession(s)
		if l := s.o.Listener.SessionClosed; l != nil {
			l(s.o.RemoteID, s.err)
		}
	}()
	for {
		select {
		case <-s.eof:
			return // the remote ended the stream
		case <-s.dirty.wake:
			s.mu.Lock()
			err := s.onWake()
			s.mu.Unlock()
			if err != nil {
				return
			}
		case f := <-s.events:
			s.mu.Lock()
			f()
			err := s.settle(nil)
			s.mu.Unlock()
			if err != nil {
				return
			}
		case <-s.ctx.Done():
			return
		}
	}
}

// settle ends a step: it performs the step's output (flush). An error of
// the step or of its output is the remote's: reported, it ends the
// session, and settle returns it.
func (s *Session) settle(err error) error {
	if ferr := s.flush(); err == nil {
		err = ferr
	}
	if err != nil {
		s.peerError(err)
		s.fail(err)
	}
	return err
}

// step is the session's deterministic core: it handles one message from
// the remote and leaves what to send and the book operations to perform
// in s.outbox, in order (session_ops.go). It runs no goroutine, reads no
// clock, does no I/O and writes nothing: it reads the books' state. The
// loop (the shell) feeds it messages, local changes and the results of
// the book operations, and performs its output.
func (s *Session) step(m *pb.Message) error {
	switch b := m.Body.(type) {
	case *pb.Message_Open:
		return s.onOpen(b.Open)
	case *pb.Message_Close:
		if c := s.remote[b.Close.GetChannel()]; c != nil {
			c.close()
			delete(s.remote, c.remote)
		} else if dk, ok := s.pendingChan[b.Close.GetChannel()]; ok {
			s.dropOffer(dk) // withdrawn before we held the book
		}
	case *pb.Message_Sync:
		if c := s.remote[b.Sync.GetChannel()]; c != nil {
			return s.onSync(c, b.Sync)
		}
		s.keepEarlySync(b.Sync)
	case *pb.Message_Have:
		// Spans past the contiguous prefix: a follower asks only for the
		// prefix, so nothing to record yet.
	case *pb.Message_Request:
		return s.onRequest(b.Request)
	case *pb.Message_Data:
		return s.onData(b.Data.GetChannel(), b.Data.GetId(), b.Data)
	case *pb.Message_NoData:
		return s.onData(b.NoData.GetChannel(), b.NoData.GetId(), nil)
	case *pb.Message_Cancel:
		// Requests are answered as they arrive: nothing left to cancel.
	default:
		return fmt.Errorf("%w: unknown message", ErrProtocol)
	}
	return nil
}

// openLocal offers a book to the remote (once).
func (s *Session) openLocal(key ed25519.PublicKey) {
	c := s.byKey[string(key)]
	if c == nil {
		b, err := s.d.OpenKey(s.ctx, key)
		if err != nil {
			s.fail(err)
			return
		}
		c = &channel{key: key, b: b, inflight: map[uint64]asked{}, wanted: map[uint64]bool{}}
		s.byKey[string(key)] = c
		// Watch before reading the state sendSync sends, so that an
		// append in between is not missed.
		s.watch(c)
	}
	if c.local != 0 {
		return
	}
	c.local = s.nextChan
	s.nextChan++
	s.chans[c.local] = c
	dk := c.b.DiscoveryKey()
	s.send(&pb.Message{Body: &pb.Message_Open{Open: &pb.Open{
		Channel: c.local, DiscoveryKey: dk[:], Capability: capability(key, s.o.LocalID, s.o.RemoteID)}}})
	s.sendSync(c)
	if o, ok := s.pending[dk]; ok && c.remote == 0 {
		s.dropOffer(dk)
		err := s.onOffer(dk, o)
		if err == nil && o.early != nil && c.remote == o.channel {
			err = s.onSync(c, o.early)
		}
		if err != nil {
			if errors.Is(err, ErrProtocol) {
				s.peerError(err)
			}
			s.fail(err)
		}
	}
}

// onOpen checks the remote's offer of a book and keeps only what pairing
// needs: channel number, discovery key and a 32-byte capability.
func (s *Session) onOpen(o *pb.Open) error {
	if len(o.GetDiscoveryKey()) != 32 || o.GetChannel() == 0 {
		return fmt.Errorf("%w: malformed open", ErrProtocol)
	}
	if n := len(o.GetCapability()); n != capabilitySize {
		return fmt.Errorf("%w: %w: capability of %d bytes, want %d", ErrProtocol, ErrCapability, n, capabilitySize)
	}
	return s.onOffer([32]byte(o.GetDiscoveryKey()), offer{channel: o.GetChannel(), capability: [32]byte(o.GetCapability())})
}

// onOffer accepts the remote's offer of a book we hold, if it proves it
// knows the key. Offers of books we do not hold are kept until the book is
// opened here (at most MaxPendingOffers): a remote never creates a book
// here, and learns nothing about what we hold.
func (s *Session) onOffer(dk [32]byte, o offer) error {
	if _, ok := s.pendingChan[o.channel]; ok || s.remote[o.channel] != nil {
		return fmt.Errorf("%w: channel %d opened twice", ErrProtocol, o.channel)
	}
	if old, ok := s.pending[dk]; ok {
		return fmt.Errorf("%w: book %x offered on channel %d and again on %d", ErrProtocol, dk[:8], old.channel, o.channel)
	}
	in, err := s.d.LookupDiscoveryKey(dk)
	if errors.Is(err, ErrNotFound) {
		return s.keepOffer(dk, o)
	}
	if err != nil {
		return err
	}
	if !checkCapability(in.Key, s.o.RemoteID, s.o.LocalID, o.capability[:]) {
		return fmt.Errorf("%w: %w: for book %x", ErrProtocol, ErrCapability, in.DiscoveryKey[:8])
	}
	c := s.byKey[string(in.Key)]
	switch {
	case c != nil && c.remote != 0:
		return fmt.Errorf("%w: book %x opened on channel %d and again on %d", ErrProtocol, in.DiscoveryKey[:8], c.remote, o.channel)
	case c == nil: // a book we did not offer: the remote makes us open it
		if s.remoteOpened >= s.o.MaxRemoteChannels {
			return fmt.Errorf("%w: %w: over %d books opened by the remote", ErrProtocol, ErrLimit, s.o.MaxRemoteChannels)
		}
		s.remoteOpened++
	}
	s.openLocal(in.Key)
	if c = s.byKey[string(in.Key)]; c == nil {
		return nil // the DB is closing
	}
	c.remote = o.channel
	s.remote[c.remote] = c
	if c.state == chOffered { // (closed if the book closed meanwhile)
		c.move(chPaired)
	}
	if l := s.o.Listener.ChannelOpened; l != nil {
		l(s.o.RemoteID, in.Key)
	}
	return nil
}

// keepOffer remembers an offer of a book we do not hold (yet), in case the
// book is added and opened on this session later. Never answered otherwise.
func (s *Session) keepOffer(dk [32]byte, o offer) error {
	if len(s.pending) >= s.o.MaxPendingOffers {
		return fmt.Errorf("%w: %w: over %d offers of books not held here", ErrProtocol, ErrLimit, s.o.MaxPendingOffers)
	}
	s.pending[dk] = o
	s.pendingChan[o.channel] = dk
	return nil
}

// dropOffer forgets a pending offer.
func (s *Session) dropOffer(dk [32]byte) {
	if o, ok := s.pending[dk]; ok {
		delete(s.pendingChan, o.channel)
		delete(s.pending, dk)
	}
}

// keepEarlySync keeps the remote's Sync on a channel it offered that we
// cannot pair yet (see offer.early); one per offer, the latest. Syncs on
// channels never offered are ignored, as before.
func (s *Session) keepEarlySync(m *pb.Sync) {
	dk, ok := s.pendingChan[m.GetChannel()]
	if !ok {
		return
	}
	o := s.pending[dk]
	o.early = &pb.Sync{Channel: m.GetChannel(), Fork: m.GetFork(), Length: m.GetLength(), Contiguous: m.GetContiguous(), Follow: m.GetFollow()}
	s.pending[dk] = o
}

// onLocalChange tells the remote about a new state of c's book (or of the
// pages its readers wait for) and fetches more.
func (s *Session) onLocalChange(c *channel) {
	if c.b.Closed() {
		c.close()
		return
	}
	s.push(c)
	s.sendSync(c)
	s.schedule(c)
}

// sendSync sends our state if it changed since we last sent it.
func (s *Session) sendSync(c *channel) {
	if c.local == 0 {
		return
	}
	fork, length := c.b.Fork(), c.b.Length()
	if c.sentSync && fork != c.sFork {
		c.resetFork()
	}
	if c.contig >= length {
		c.contig = length // every page held: nothing to scan
	} else if contig, err := c.b.Contiguous(c.contig); err == nil {
		c.contig = contig
	}
	if c.sentSync && c.sFork == fork && c.sLen == length && c.sContig == c.contig {
		return
	}
	c.sentSync, c.sFork, c.sLen, c.sContig = true, fork, length, c.contig
	s.send(&pb.Message{Body: &pb.Message_Sync{Sync: &pb.Sync{
		Channel: c.local, Fork: fork, Length: length, Contiguous: c.contig, Follow: !s.o.Sparse}}})
}

func (s *Session) onSync(c *channel, m *pb.Sync) error {
	if m.GetContiguous() > m.GetLength() {
		return nil
	}
	if c.synced() && (m.GetFork() < c.rFork || (m.GetFork() == c.rFork && m.GetLength() < c.rLength)) {
		// A signed length never shrinks but in a new fork.
		return fmt.Errorf("%w: book %x: the remote went back from length %d fork %d to length %d fork %d",
			ErrProtocol, c.b.DiscoveryKey(), c.rLength, c.rFork, m.GetLength(), m.GetFork())
	}
	if m.GetFork() != c.rFork || m.GetLength() != c.rLength {
		c.rChecked = false // a head we have not seen from this remote
	}
	if c.state != chClosed {
		c.move(chLive)
	}
	c.syncs++
	c.rFork, c.rLength, c.rContig, c.rFollow = m.GetFork(), m.GetLength(), m.GetContiguous(), m.GetFollow()
	s.schedule(c)
	return nil
}
