package io

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio/pbio"
	msmux "github.com/multiformats/go-multistream"

	"github.com/folio-p2p/folio/io/pb"
)

// IntroduceProtocol carries introductions alone to a peer already
// handshaken on the current connection: the same Hello as the handshake,
// with introductions only (no books, no topics), and the same answer
// (rejections only). A handshake restates every book shared with the
// remote, so introducing one new book that way costs O(books shared); on
// this protocol it costs that one book. A peer that does not speak it
// (an older folio) gets a full handshake instead.
const IntroduceProtocol = "/folio/introduce/1.0.0"

// checkIntros refuses introductions that a Hello may not carry.
func checkIntros(intros []Introduction) error {
	for _, in := range intros {
		if len(in.Key) != 32 || len(in.Token) > MaxTokenSize || len(in.Meta) > MaxMetaSize {
			return fmt.Errorf("io: handshake: malformed introduction (key %d bytes, token %d, meta %d)", len(in.Key), len(in.Token), len(in.Meta))
		}
	}
	return nil
}

// Introduce hands intros to p (and only to p). The result's Rejected
// lists those p refused, with its reasons. On a connection already
// handshaken with a peer that speaks IntroduceProtocol, only the
// introductions travel and the result is Brief (no Topics, no Shared);
// otherwise it is a new handshake (Handshake).
func (s *Swarm) Introduce(ctx context.Context, p peer.ID, intros ...Introduction) (Handshake, error) {
	if err := checkIntros(intros); err != nil {
		return Handshake{}, err
	}
	if !s.briefTo(p) {
		return s.Handshake(ctx, p, intros...)
	}
	r, err := s.introduce(ctx, p, intros)
	if notSpoken(err) {
		// The remote does not speak it after all (the peerstore's list
		// was stale): nothing reached its application.
		return s.Handshake(ctx, p, intros...)
	}
	return r, err
}

// briefTo reports whether introductions to p may go without a handshake:
// a handshake holds on the current connection and p lists
// IntroduceProtocol (identify, which runs before any stream is opened).
func (s *Swarm) briefTo(p peer.ID) bool {
	s.mu.Lock()
	r := s.peers[p]
	ok := r != nil && r.handshaken
	s.mu.Unlock()
	if !ok || s.h.Network().Connectedness(p) != network.Connected {
		return false
	}
	got, err := s.h.Peerstore().SupportsProtocols(p, IntroduceProtocol)
	return err == nil && len(got) == 1
}

// introduce sends intros to p on IntroduceProtocol and reads its answer.
func (s *Swarm) introduce(ctx context.Context, p peer.ID, intros []Introduction) (Handshake, error) {
	if err := s.admit(p); err != nil {
		return Handshake{}, err
	}
	defer s.release(p)
	ctx, cancel := context.WithTimeout(ctx, s.o.HandshakeTimeout)
	defer cancel()
	st, err := s.h.NewStream(ctx, p, IntroduceProtocol)
	if err != nil {
		return Handshake{}, s.introFailed(p, err)
	}
	defer st.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(d)
	}
	if err := pbio.NewDelimitedWriter(st).WriteMsg(buildHello(s.h.ID(), p, offer{intros: intros})); err != nil {
		st.Reset()
		return Handshake{}, s.introFailed(p, err)
	}
	var h pb.Hello
	if err := s.readHello(st, &h); err != nil {
		st.Reset()
		return Handshake{}, s.introFailed(p, err)
	}
	r := Handshake{Remote: p, Initiator: true, Brief: true, Rejected: rejections(intros, &h)}
	s.report(r)
	return r, nil
}

// introFailed wraps err, an introduction's failure, and reports it
// unless the remote does not speak IntroduceProtocol (Introduce then
// handshakes instead).
func (s *Swarm) introFailed(p peer.ID, err error) error {
	err = fmt.Errorf("io: introduce to %s: %w", p, err)
	if notSpoken(err) {
		return err
	}
	return s.failed(p, err)
}

// notSpoken reports whether err says the remote refused the protocol in
// its negotiation, before any of our message reached its handler: when
// the stream was opened (multistream's ErrNotSupported) or, when it was
// opened optimistically, at our first read (a reset with
// StreamProtocolNegotiationFailed).
func notSpoken(err error) bool {
	var se *network.StreamError
	if errors.As(err, &se) {
		return se.Remote && se.ErrorCode == network.StreamProtocolNegotiationFailed
	}
	return errors.As(err, new(msmux.ErrNotSupported[protocol.ID]))
}

// handleIntroduce answers introductions sent on IntroduceProtocol. It
// admits the remote as a handshake does (firewall, peer limit) and
// reports what Accept kept, as a Brief handshake; it records nothing, so
// the connection's last full handshake (its topics and shared books)
// stands.
func (s *Swarm) handleIntroduce(st network.Stream) {
	p := st.Conn().RemotePeer()
	h, w, ok := s.takeHello(st, "introduction", func(h *pb.Hello) error {
		if len(h.Books) > 0 || len(h.Topics) > 0 {
			return fmt.Errorf("%w: books or topics in an introduction", ErrHandshake)
		}
		return nil
	})
	if !ok {
		return
	}
	defer s.release(p)
	r, rejected := readHello(s.h.ID(), p, offer{}, h, s.o.Accept)
	r.Brief = true
	if err := w.WriteMsg(&pb.Hello{Version: helloVersion, Rejections: rejected}); err != nil {
		st.Reset()
		_ = s.failed(p, fmt.Errorf("io: introduction from %s: %w", p, err))
		return
	}
	st.Close()
	s.report(r)
}
