package hypercore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/protomux"
	"github.com/folio-p2p/folio/hypercore/secretstream"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// session replicates one book over one stream. Its handler methods run
// on the mux's Run goroutine; the book watcher sends from its own, so the
// mutable state is under mu.
type session struct {
	b     *book.Book
	st    *secretstream.Stream
	mux   *protomux.Mux
	opts  Options
	fetch bool // stop once complete (Fetch without Live)

	mu         sync.Mutex
	ch         *protomux.Channel
	opened     bool
	synced     bool   // a sync has arrived
	remoteFork uint64 // from the peer's last sync
	remoteLen  uint64
	told       uint64 // the length our last sync announced
	toldFork   uint64 // and its fork
	have       spans  // pages the peer announced (range, bitfield)
	nextID     uint64
	upgrading  uint64            // request id of the upgrade in flight, 0 if none
	inflight   map[uint64]uint64 // block request id → page
	nodes      map[uint64]uint64 // block request id → path nodes asked
	asked      map[uint64]bool   // pages in flight
	next       uint64            // first page not yet considered
	done       chan struct{}     // closed when a fetch is complete
	doneOnce   sync.Once
}

// run handshakes over conn and replicates b until the peer leaves, ctx
// ends or (fetch) the book is complete.
func run(ctx context.Context, conn net.Conn, initiator bool, b *book.Book, o *Options, fetch bool) error {
	opts := o.withDefaults()
	st, err := secretstream.New(ctx, conn, initiator, &opts.Stream)
	if err != nil {
		conn.Close()
		return err
	}
	s := &session{b: b, st: st, opts: opts, fetch: fetch && !opts.Live,
		inflight: map[uint64]uint64{}, nodes: map[uint64]uint64{}, asked: map[uint64]bool{}, done: make(chan struct{})}
	s.mux = protomux.New(st, nil)
	dk := b.DiscoveryKey()
	hs := wire.Handshake{Capability: Capability(st.HandshakeHash(), initiator, b.Key())}
	// Open before reading: an OPEN from the peer that arrived first would
	// otherwise find no channel of that name and be rejected.
	if _, err := s.mux.Open(Protocol, dk[:], hs.Append(nil), s); err != nil {
		st.Close()
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- s.mux.Run(ctx) }()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.watch(watchCtx)

	select {
	case err = <-runErr:
	case <-ctx.Done():
		st.Close()
		<-runErr
		return ctx.Err()
	case <-s.done:
		st.Close()
		<-runErr
		return nil
	}
	st.Close()
	select {
	case <-s.done:
		return nil
	default:
	}
	if s.fetch {
		if err == nil || errors.Is(err, net.ErrClosed) || isEOF(err) {
			return ErrIncomplete
		}
		return err
	}
	if isEOF(err) {
		return nil // the peer left: serving ends normally
	}
	return err
}

// watch announces our new length whenever the book grows, which is how
// appends reach connected readers.
func (s *session) watch(ctx context.Context) {
	sub := s.b.Subscribe()
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-sub.C:
			if !ok {
				return
			}
			s.mu.Lock()
			err := s.announce()
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}
}

// announce sends sync and range when our length changed. Call with mu.
func (s *session) announce() error {
	if !s.opened || s.ch == nil {
		return nil
	}
	h, signed := s.b.Head()
	if !signed || h.Length == s.told && h.Fork == s.toldFork {
		return nil
	}
	return s.sendSync(h)
}

func (s *session) sendSync(h *book.Head) error {
	s.told, s.toldFork = h.Length, h.Fork
	m := &wire.Sync{Fork: h.Fork, Length: h.Length, RemoteLength: s.remoteLen,
		CanUpgrade: h.Length > 0, Uploading: true, Downloading: !s.b.Writable()}
	if err := s.send(m); err != nil {
		return err
	}
	held := h.Length
	if !s.b.Writable() {
		var err error
		if held, err = s.b.Contiguous(0); err != nil {
			return err
		}
	}
	if held == 0 {
		return nil
	}
	return s.send(&wire.Range{Start: 0, Length: held})
}

func (s *session) send(m wire.Message) error {
	return s.ch.Send(m.Type(), m.Append(nil))
}

// Opened checks the peer's capability before anything else is sent or
// accepted on the channel.
func (s *session) Opened(ch *protomux.Channel, raw []byte) error {
	hs, err := wire.DecodeHandshake(raw)
	if err != nil {
		return err
	}
	want := Capability(s.st.HandshakeHash(), !s.st.Initiator(), s.b.Key())
	if hs.Capability != want {
		return ErrCapability
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ch, s.opened = ch, true
	h, _ := s.b.Head()
	return s.sendSync(h)
}

// Closed ends the session when the peer closes or rejects the channel.
func (s *session) Closed(*protomux.Channel) { s.st.Close() }

// Message handles one hypercore message from the peer.
func (s *session) Message(_ *protomux.Channel, typ uint64, raw []byte) error {
	m, err := wire.Decode(typ, raw)
	if errors.Is(err, wire.ErrUnknownType) {
		return nil
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m := m.(type) {
	case *wire.Sync:
		return s.onSync(m)
	case *wire.Range:
		s.have.add(m.Start, m.Length, m.Drop)
		s.next = 0
		return s.schedule()
	case *wire.Bitfield:
		s.have.addBits(m.Start, m.Words)
		s.next = 0
		return s.schedule()
	case *wire.Want:
		h, _ := s.b.Head()
		if s.b.Writable() && h.Length > 0 {
			return s.send(&wire.Range{Start: 0, Length: h.Length})
		}
	case *wire.Request:
		return s.onRequest(m)
	case *wire.Data:
		return s.onData(m)
	case *wire.NoData:
		// The page may be asked again later (from this peer, after its
		// next range): step back to it.
		if i, ok := s.inflight[m.Request]; ok && i < s.next {
			s.next = i
		}
		s.forget(m.Request)
	}
	return nil
}

func (s *session) onSync(m *wire.Sync) error {
	s.synced, s.remoteFork, s.remoteLen = true, m.Fork, m.Length
	h, _ := s.b.Head()
	if m.RemoteLength != h.Length || s.told != h.Length {
		if err := s.sendSync(h); err != nil {
			return err
		}
	}
	if err := s.schedule(); err != nil {
		return err
	}
	s.checkDone()
	return nil
}

// onRequest answers from a snapshot, so concurrent appends cannot tear a
// proof.
func (s *session) onRequest(req *wire.Request) error {
	snap, err := s.b.Snapshot()
	if err != nil {
		return err
	}
	defer snap.Close()
	p := &prover{src: snap, head: snap.Head()}
	d, err := p.prove(req)
	if err == nil && d.Block != nil {
		d.Block.Value, err = snap.Get(d.Block.Index)
		if errors.Is(err, book.ErrNotFound) {
			err = errNoData(wire.ReasonNotAvailable)
		}
	}
	var nd errNoData
	if errors.As(err, &nd) {
		return s.send(&wire.NoData{Request: req.ID, Reason: uint64(nd)})
	}
	if err != nil {
		return err
	}
	return s.send(d)
}

// onData verifies and stores a proof; a proof that fails to verify ends
// the stream (the peer is lying or broken), a stale one is dropped.
func (s *session) onData(d *wire.Data) error {
	if s.b.Writable() {
		return nil // the author's own book takes no proofs
	}
	idx, isBlock := s.inflight[d.Request]
	if d.Request != s.upgrading && !isBlock {
		return nil // not ours (cancelled or duplicate)
	}
	asked := s.nodes[d.Request]
	s.forget(d.Request)
	if d.Upgrade != nil && d.Block != nil || (isBlock && (d.Block == nil || d.Block.Index != idx)) {
		return fmt.Errorf("%w: answer does not match request %d", ErrBadProof, d.Request)
	}
	forkBefore := s.b.Fork()
	if err := applyData(context.Background(), s.b, d); err != nil {
		if errors.Is(err, book.ErrStale) {
			return s.schedule()
		}
		h, _ := s.b.Head()
		if full := pathToRoot(idx, rootSet(h.Length)); isBlock && errors.Is(err, book.ErrVerify) && asked < full {
			// Our prediction was short (blocks answered out of order, or
			// a book fetched before): ask for the whole path once.
			return s.requestBlock(idx, full, h.Fork)
		}
		return err
	}
	if d.Upgrade != nil {
		h, _ := s.b.Head()
		if h.Fork != forkBefore {
			s.next = 0 // the new fork voided every page: start over
		}
		if err := s.sendSync(h); err != nil {
			return err
		}
	}
	if err := s.schedule(); err != nil {
		return err
	}
	s.checkDone()
	return nil
}

func (s *session) forget(id uint64) {
	if id == s.upgrading {
		s.upgrading = 0
	}
	if i, ok := s.inflight[id]; ok {
		delete(s.inflight, id)
		delete(s.nodes, id)
		delete(s.asked, i)
	}
}

func (s *session) newID() uint64 {
	s.nextID++
	return s.nextID
}

// schedule asks for an upgrade when the peer is ahead, then for missing
// pages the peer has, up to MaxInflight at once.
func (s *session) schedule() error {
	if s.b.Writable() || !s.opened || !s.synced {
		return nil
	}
	h, signed := s.b.Head()
	forked := signed && s.remoteFork > h.Fork
	if s.upgrading == 0 && s.remoteLen > 0 && (forked || s.remoteLen > h.Length && s.remoteFork == h.Fork) {
		s.upgrading = s.newID()
		have := uint64(0)
		if signed && !forked {
			have = h.Length // a new fork (the author truncated) starts from 0
		}
		req := &wire.Request{ID: s.upgrading, Fork: s.remoteFork,
			Upgrade: &wire.RequestUpgrade{Start: have, Length: s.remoteLen - have}}
		if err := s.send(req); err != nil {
			return err
		}
	}
	roots := rootSet(h.Length)
	for len(s.inflight) < s.opts.MaxInflight && s.next < h.Length {
		i := s.next
		s.next++
		if s.asked[i] || !s.have.has(i) {
			continue
		}
		if ok, err := s.b.Has(i); err != nil || ok {
			if err != nil {
				return err
			}
			continue
		}
		if err := s.requestBlock(i, predictNodes(i, roots), h.Fork); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) requestBlock(i, nodes, fork uint64) error {
	id := s.newID()
	s.inflight[id], s.asked[i] = i, true
	s.nodes[id] = nodes
	req := &wire.Request{ID: id, Fork: fork, Block: &wire.RequestBlock{Index: i, Nodes: nodes}, Priority: 1}
	return s.send(req)
}

// predictNodes is how many path nodes block i needs when the blocks
// before it were fetched in order, as this session fetches them: a node
// that is a right child was sent as its left neighbour's sibling, so the
// path stops there (or at a root). It costs no storage lookup, unlike
// book.MissingNodes; when it is wrong the proof fails to verify, nothing
// is stored, and onData asks again for the whole path.
func predictNodes(i uint64, roots map[uint64]bool) uint64 {
	n, count := 2*i, uint64(0)
	for !roots[n] && book.NodeSibling(n) > n {
		n = book.NodeParent(n)
		count++
	}
	return count
}

func rootSet(length uint64) map[uint64]bool {
	m := map[uint64]bool{}
	for _, r := range book.Roots(length) {
		m[r] = true
	}
	return m
}

// pathToRoot is how many path nodes prove block i from the signed roots
// alone: always enough.
func pathToRoot(i uint64, roots map[uint64]bool) uint64 {
	n, count := 2*i, uint64(0)
	for !roots[n] {
		n = book.NodeParent(n)
		count++
	}
	return count
}

// checkDone ends a fetch once the book holds every page of the peer's
// signed length.
func (s *session) checkDone() {
	if !s.fetch || !s.synced || s.upgrading != 0 || len(s.inflight) != 0 {
		return
	}
	h, _ := s.b.Head()
	if h.Length < s.remoteLen || h.Fork < s.remoteFork {
		return // an empty core (length 0 on both sides) is complete at once
	}
	if n, err := s.b.Contiguous(0); err != nil || n < h.Length {
		return
	}
	s.doneOnce.Do(func() { close(s.done) })
}
