package io

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio/pbio"

	"github.com/folio-p2p/folio/io/pb"
)

// Handshake runs the handshake of book IDs with p now (connecting if
// needed), handing it intros, and returns what both sides share. The
// result also goes to the Handshaken listener.
func (s *Swarm) Handshake(ctx context.Context, p peer.ID, intros ...Introduction) (Handshake, error) {
	if err := checkIntros(intros); err != nil {
		return Handshake{}, err
	}
	if err := s.admit(p); err != nil {
		return Handshake{}, err
	}
	defer s.release(p)
	ctx, cancel := context.WithTimeout(ctx, s.o.HandshakeTimeout)
	defer cancel()
	st, err := s.newStream(ctx, p, HandshakeProtocol)
	if err != nil {
		return Handshake{}, s.failed(p, fmt.Errorf("io: handshake with %s: %w", p, err))
	}
	defer st.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(d)
	}
	o := s.offer(p)
	o.intros = intros
	if err := pbio.NewDelimitedWriter(st).WriteMsg(buildHello(s.h.ID(), p, o)); err != nil {
		st.Reset()
		return Handshake{}, s.failed(p, fmt.Errorf("io: handshake with %s: %w", p, err))
	}
	var h pb.Hello
	if err := s.readHello(st, &h); err != nil {
		st.Reset()
		return Handshake{}, s.failed(p, fmt.Errorf("io: handshake with %s: %w", p, err))
	}
	r, _ := readHello(s.h.ID(), p, o, &h, s.o.Accept)
	r.Initiator = true
	r.Rejected = rejections(intros, &h)
	s.done(r)
	return r, nil
}

// handleStream answers a handshake opened by the remote.
func (s *Swarm) handleStream(st network.Stream) {
	p := st.Conn().RemotePeer()
	h, w, ok := s.takeHello(st, "handshake", nil)
	if !ok {
		return
	}
	defer s.release(p)
	o := s.offer(p)
	r, rejected := readHello(s.h.ID(), p, o, h, s.o.Accept)
	reply := buildHello(s.h.ID(), p, o)
	reply.Rejections = rejected
	// Recorded before the answer goes out: once the initiator has it, it
	// is listed here too (Peers, MaxPeers), not a moment later.
	undo := s.record(r)
	if err := w.WriteMsg(reply); err != nil {
		st.Reset()
		undo()
		_ = s.failed(p, fmt.Errorf("io: handshake from %s: %w", p, err))
		return
	}
	st.Close()
	s.report(r)
}

// takeHello is the start of an answer on st, opened by the remote for
// what (a handshake, an introduction): it reads and checks the remote's
// Hello (check: more checks, nil: none) and admits the remote, answering
// a refusal itself. ok: the caller answers, then calls s.release.
func (s *Swarm) takeHello(st network.Stream, what string, check func(*pb.Hello) error) (h *pb.Hello, w pbio.WriteCloser, ok bool) {
	p := st.Conn().RemotePeer()
	_ = st.SetDeadline(time.Now().Add(s.o.HandshakeTimeout))
	h = &pb.Hello{}
	err := s.readHello(st, h)
	if err == nil && check != nil {
		err = check(h)
	}
	if err != nil {
		st.Reset()
		_ = s.failed(p, fmt.Errorf("io: %s from %s: %w", what, p, err))
		return nil, nil, false
	}
	w = pbio.NewDelimitedWriter(st)
	if err := s.admit(p); err != nil {
		// The initiator adds "refused" itself.
		_ = w.WriteMsg(&pb.Hello{Version: helloVersion, Refused: refusal(err)})
		st.Close()
		return nil, nil, false
	}
	return h, w, true
}

// readHello reads and checks one Hello.
func (s *Swarm) readHello(st network.Stream, h *pb.Hello) error {
	if err := pbio.NewDelimitedReader(st, s.o.MaxMessageSize).ReadMsg(h); err != nil {
		// %w twice: a stream the remote refused to speak (multistream's
		// ErrNotSupported) stays recognisable.
		return fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	if h.Refused != "" {
		return fmt.Errorf("%w: %s", ErrRefused, h.Refused)
	}
	return checkHello(h)
}

// refusal is what a Hello's refused field says of err (admit's): the
// initiator adds "refused" itself.
func refusal(err error) string {
	return strings.TrimPrefix(err.Error(), ErrRefused.Error()+": ")
}

// admit applies the firewall and the peer limit to p.
func (s *Swarm) admit(p peer.ID) error {
	if !s.o.Firewall(p) {
		if f := s.o.Listener.Refused; f != nil {
			f(p, ErrFirewall)
		}
		return fmt.Errorf("%w: %w", ErrRefused, ErrFirewall)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	r := s.remoteLocked(p)
	if r.handshaken || r.admitting > 0 {
		r.admitting++
		return nil
	}
	// Peers being handshaken count too, so that handshakes arriving
	// together cannot overshoot the limit.
	n := 0
	for _, o := range s.peers {
		if o.handshaken || o.admitting > 0 {
			n++
		}
	}
	if n >= s.o.MaxPeers {
		if f := s.o.Listener.Refused; f != nil {
			defer f(p, ErrPeerLimit)
		}
		return fmt.Errorf("%w: %w", ErrRefused, ErrPeerLimit)
	}
	r.admitting++
	return nil
}

// release ends a handshake admit let through.
func (s *Swarm) release(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.peers[p]; r != nil && r.admitting > 0 {
		r.admitting--
		s.forgetLocked(p)
	}
}

// offer gathers what this side says to p: the books the application
// offers it and the topics joined.
func (s *Swarm) offer(p peer.ID) offer {
	o := offer{books: s.o.Offer(p)}
	s.mu.Lock()
	for t := range s.topics {
		o.topics = append(o.topics, t)
	}
	s.mu.Unlock()
	return o
}

// done records a finished handshake and reports it.
func (s *Swarm) done(r Handshake) {
	s.record(r)
	s.report(r)
}

// record makes r its peer's latest handshake on the current connection.
// undo takes it back (the answer could not be sent) unless a newer one
// was recorded since.
func (s *Swarm) record(r Handshake) (undo func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rm := s.remoteLocked(r.Remote)
	prevShaken, prevLast := rm.handshaken, rm.last
	rm.recorded++
	n := rm.recorded
	rm.handshaken, rm.last = true, r
	rm.connected = rm.connected || s.h.Network().Connectedness(r.Remote) == network.Connected
	// A LAN peer with nothing in common is not worth keeping.
	if rm.lan && len(r.Topics) == 0 && len(r.Shared) == 0 && len(r.Introduced) == 0 {
		rm.lan = false
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.peers[r.Remote] == rm && rm.recorded == n {
			// A drop in between ended the earlier handshake too.
			rm.handshaken, rm.last = prevShaken && rm.connected, prevLast
		}
	}
}

// report tells the listener of a recorded handshake.
func (s *Swarm) report(r Handshake) {
	if f := s.o.Listener.Handshaken; f != nil {
		f(r)
	}
}

func (s *Swarm) failed(p peer.ID, err error) error {
	if errors.Is(err, ErrClosed) || s.ctx.Err() != nil {
		return err
	}
	if f := s.o.Listener.HandshakeFailed; f != nil {
		f(p, err)
	}
	return err
}
