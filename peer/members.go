package peer

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/peer/pb"
)

// ensureMyBook returns this peer's book for reader in task, creating it
// with its Address page and a copy of this peer's whole log for the task
// (one append), or bringing a shorter one up to date.
func (p *Peer) ensureMyBook(ctx context.Context, task TaskID, reader peer.ID) (*book.Book, error) {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	b, err := p.v.DB().Book(ctx, bookName(p.me, reader, task))
	if err != nil {
		return nil, fmt.Errorf("peer: book for %s: %w", reader, err)
	}
	p.mu.Lock()
	r := p.rootFor(task)
	p.mu.Unlock()
	if b.Length() == 0 {
		pages, err := p.firstPages(ctx, r, task, reader)
		if err != nil {
			return nil, err
		}
		// One append (one sync) for the Address page and the log: a
		// newcomer's welcome waits for it.
		if _, err := b.Append(ctx, pages...); err != nil {
			return nil, fmt.Errorf("peer: book for %s: %w", reader, err)
		}
	}
	p.mu.Lock()
	p.opened(r, reader, b)
	p.mu.Unlock()
	p.gate.share(reader, b.Key(), nil)
	if err := p.levelMyBooks(ctx, r); err != nil {
		return nil, err
	}
	p.watch(task, p.me, b)
	return b, nil
}

// firstPages are the pages of a new book of ours for reader in r: its
// Address page, then a copy of our log so far. Call with sendMu held
// (the log does not grow meanwhile).
func (p *Peer) firstPages(ctx context.Context, r *root, task TaskID, reader peer.ID) ([][]byte, error) {
	prof, _, _ := p.v.Profile(ctx)
	a := &pb.Address{Author: []byte(p.me), Reader: []byte(reader), Task: task[:], Addrs: encodeAddrs(p.v.Addrs())}
	if prof != nil {
		a.Name = prof.Name
	}
	page, _ := proto.Marshal(a)
	p.mu.Lock()
	n, get := p.myLog(r)
	p.mu.Unlock()
	return readLog(ctx, get, 1, n, append(make([][]byte, 0, n), page))
}

// readLog appends messages [from, n) of our log, read with get, to pages.
func readLog(ctx context.Context, get func(context.Context, uint64) ([]byte, error), from, n uint64, pages [][]byte) ([][]byte, error) {
	for i := from; i < n; i++ {
		pg, err := get(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("peer: copy message %d: %w", i, err)
		}
		pages = append(pages, pg)
	}
	return pages, nil
}

// myLog returns this peer's log for r: its length (counting the Address
// page) and a reader of page i ≥ 1. Call with p.mu held.
func (p *Peer) myLog(r *root) (uint64, func(ctx context.Context, i uint64) ([]byte, error)) {
	var best *book.Book
	for _, b := range r.myBooks {
		if best == nil || b.Length() > best.Length() {
			best = b
		}
	}
	if best != nil && best.Length() > uint64(len(r.outbox)) {
		return best.Length(), func(ctx context.Context, i uint64) ([]byte, error) {
			return best.Get(ctx, i, &book.GetOptions{LocalOnly: true})
		}
	}
	out := r.outbox
	return uint64(len(out)) + 1, func(_ context.Context, i uint64) ([]byte, error) {
		if i == 0 || i > uint64(len(out)) {
			return nil, book.ErrNotFound
		}
		return out[i-1], nil
	}
}

// levelMyBooks copies missing messages into this peer's shorter books for
// r (a new member's book, or one a crash left behind), so that every book
// holds the same message at the same index. Call with sendMu held.
func (p *Peer) levelMyBooks(ctx context.Context, r *root) error {
	p.mu.Lock()
	n, get := p.myLog(r)
	books := make([]*book.Book, 0, len(r.myBooks))
	for _, b := range r.myBooks {
		books = append(books, b)
	}
	p.mu.Unlock()
	for _, b := range books {
		if b.Length() == 0 || b.Length() >= n {
			continue
		}
		pages, err := readLog(ctx, get, b.Length(), n, make([][]byte, 0, n-b.Length()))
		if err != nil {
			return err
		}
		if _, err := b.Append(ctx, pages...); err != nil {
			return fmt.Errorf("peer: copy messages: %w", err)
		}
	}
	return nil
}

// repair levels this peer's books for r after a restart.
func (p *Peer) repair(ctx context.Context, r *root) {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	_ = p.levelMyBooks(ctx, r)
}

// introduceLocked introduces our book for m to m in the background, with
// our view of the members, until m accepts it. Call with p.mu held.
func (p *Peer) introduceLocked(r *root, m *member) {
	if m.acked || m.introducing || p.closed || p.deferDial(m) {
		return
	}
	p.introducing(m)
	m.lastTry, m.awaited = time.Now(), false
	meta := fitMeta(p.introMeta(r, encodeAddrs(p.v.Addrs())), maxMeta)
	task, id, addrs := r.id, m.id, m.addrs
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ok := p.introduce(task, id, addrs, meta)
		var shared map[string]bool
		if ok {
			shared = p.lastShared(id)
		}
		p.mu.Lock()
		p.introEnded[id] = time.Now()
		p.introduceDone(m, ok)
		// Now that id has heard from us, the connection's handshake acks
		// the books it shared (its acks were ignored before: see
		// core.handshaken). Else, after a restart, the retry loop would
		// introduce every task's book to id again.
		p.handshaken(id, shared)
		p.mu.Unlock()
		p.kickRetry() // due again Retry after lastTry, if not acked
	}()
}

func (p *Peer) introduce(task TaskID, id peer.ID, addrs []ma.Multiaddr, meta *pb.IntroMeta) bool {
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if len(addrs) > 0 && !p.connected(id) {
		_ = p.v.Connect(peer.AddrInfo{ID: id, Addrs: addrs})
	}
	b, err := p.ensureMyBook(ctx, task, id)
	if err != nil {
		return false
	}
	mb, _ := proto.Marshal(meta)
	h, err := p.v.Introduce(ctx, id, folioio.Introduction{Key: b.Key(), Meta: mb})
	return err == nil && len(h.Rejected) == 0
}

// deferDial reports whether an introduction to m waits for the retry loop:
// while we are not connected to m and its own introduction is awaited
// since less than Options.AwaitGrace, or our last try was less than
// Options.Retry ago. A newcomer reads the join messages of everyone who
// joined before it while each of them reads the one naming the newcomer:
// if both introduced themselves at once, most pairs would dial each other
// simultaneously and leave two connections (two TLS handshakes, one
// connection retired). So the member who was there first dials, and the
// newcomer answers on that connection. The grace is longer than Retry
// because on a loaded machine a member often takes longer than a short
// Retry to read the join message and dial (261 duplicate connections at 32
// members with the benchmark's 200 ms). Call with p.mu held.
func (p *Peer) deferDial(m *member) bool {
	wait := p.o.Retry
	if m.awaited {
		wait = p.o.AwaitGrace
	}
	return !m.lastTry.IsZero() && time.Since(m.lastTry) < wait && !p.connected(m.id)
}

// connected reports whether this peer has a connection to id now. Then
// an introduction needs no Connect: Connect handshakes again (offering
// every shared book) and, when both sides dial at once, leaves two
// connections.
func (p *Peer) connected(id peer.ID) bool {
	h := p.v.Host()
	return h != nil && h.Network().Connectedness(id) == network.Connected
}

func sameAddrs(a, b []ma.Multiaddr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// meet dials member id again after Open, or, when the vault's redial of
// recent peers connected to it first, handshakes again on that
// connection. That redial may handshake before the gate opens, offering
// no book: a connection whose last full handshake shared nothing gives
// the restart's acks (core.handshaken) nothing, and every task's book
// was introduced again (and Connect does not handshake while that
// redial's dialer runs). At worst one more handshake per member peer
// after a restart. Call with p.mu held.
func (p *Peer) meet(id peer.ID, addrs []ma.Multiaddr) {
	again := p.connected(id)
	// Wanted from now on (redialed when the connection drops).
	_ = p.v.Connect(peer.AddrInfo{ID: id, Addrs: addrs})
	s := p.v.Swarm()
	if !again || s == nil {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
		defer cancel()
		_, _ = s.Handshake(ctx, id)
	}()
}
