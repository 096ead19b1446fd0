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
// with its Address page and a copy of this peer's whole log for the task,
// or bringing a shorter one up to date.
func (p *Peer) ensureMyBook(ctx context.Context, task TaskID, reader peer.ID) (*book.Book, error) {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	b, err := p.v.DB().Book(ctx, bookName(p.me, reader, task))
	if err != nil {
		return nil, fmt.Errorf("peer: book for %s: %w", reader, err)
	}
	if b.Length() == 0 {
		prof, _, _ := p.v.Profile(ctx)
		a := &pb.Address{Author: []byte(p.me), Reader: []byte(reader), Task: task[:], Addrs: encodeAddrs(p.v.Addrs())}
		if prof != nil {
			a.Name = prof.Name
		}
		page, _ := proto.Marshal(a)
		if _, err := b.Append(ctx, page); err != nil {
			return nil, fmt.Errorf("peer: book for %s: %w", reader, err)
		}
	}
	p.mu.Lock()
	r := p.rootFor(task)
	r.myBooks[reader] = b
	p.mu.Unlock()
	p.gate.share(reader, b.Key(), nil)
	if err := p.levelMyBooks(ctx, r); err != nil {
		return nil, err
	}
	p.watch(task, b)
	return b, nil
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
		pages := make([][]byte, 0, n-b.Length())
		for i := b.Length(); i < n; i++ {
			pg, err := get(ctx, i)
			if err != nil {
				return fmt.Errorf("peer: copy message %d: %w", i, err)
			}
			pages = append(pages, pg)
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

// learnLocked records a member named by a join message, and starts
// introducing our book to it. Call with p.mu held.
func (p *Peer) learnLocked(r *root, j *pb.Join) {
	m := p.knowLocked(r, j)
	switch {
	case m == nil || m.acked:
	case m.restored && p.announced[m.id]:
		// After a restart every join is read again: introducing each
		// would be a handshake per task and member, each offering every
		// shared book. One introduction per member peer tells it our
		// addresses (movedLocked, on its side, spreads them to every
		// task); the first handshake with it acks our books.
		if m.lastTry.IsZero() {
			m.lastTry = time.Now()
		}
	default:
		p.announced[m.id] = true
		p.introduceLocked(r, m)
	}
}

// knowLocked records a member named by a join message or an introducer
// and returns it (nil: not a member to know). Call with p.mu held.
func (p *Peer) knowLocked(r *root, j *pb.Join) *member {
	id, err := peer.IDFromBytes(j.PeerId)
	if err != nil || id == p.me {
		return nil
	}
	m := r.members[id]
	if m == nil {
		m = &member{id: id}
		r.members[id] = m
		p.gate.admit(r.id, id)
		p.recordLater(&pb.Record{Body: &pb.Record_Member{Member: &pb.Member{Task: r.id[:], PeerId: j.PeerId, Addrs: j.Addrs}}})
	}
	if addrs := decodeAddrs(j.Addrs); len(addrs) > 0 && len(m.addrs) == 0 {
		m.addrs = addrs
	}
	return m
}

// awaitLocked records a member an introducer named, without introducing
// our book to it yet: a newcomer's members introduce their books to it
// when they read the join message, and it answers each on that
// connection (accept). Were it to dial them too, each pair would dial at
// once and keep two connections, two TLS handshakes. A member that has
// not introduced itself within Options.Retry is introduced to by the
// retry loop. Call with p.mu held.
func (p *Peer) awaitLocked(r *root, j *pb.Join) {
	if m := p.knowLocked(r, j); m != nil && !m.acked && !m.introducing && m.lastTry.IsZero() {
		m.lastTry = time.Now()
	}
}

// introduceLocked introduces our book for m to m in the background, with
// our view of the members, until m accepts it. Call with p.mu held.
func (p *Peer) introduceLocked(r *root, m *member) {
	if m.acked || m.introducing || p.closed {
		return
	}
	m.introducing = true
	m.lastTry = time.Now()
	meta := &pb.IntroMeta{Task: r.id[:]}
	meta.Members = append(meta.Members, &pb.Join{PeerId: []byte(p.me), Addrs: encodeAddrs(p.v.Addrs())})
	for _, o := range r.members {
		meta.Members = append(meta.Members, &pb.Join{PeerId: []byte(o.id), Addrs: encodeAddrs(o.addrs)})
	}
	for _, t := range r.tasks {
		u := &pb.TaskUpdate{Task: t.ID[:], Title: t.Title, Closed: t.Closed}
		if t.Parent != (TaskID{}) {
			u.Parent = t.Parent[:]
		}
		meta.Tasks = append(meta.Tasks, u)
	}
	task, id, addrs := r.id, m.id, m.addrs
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ok := p.introduce(task, id, addrs, meta)
		p.mu.Lock()
		m.introducing = false
		m.acked = m.acked || ok
		p.mu.Unlock()
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

// connected reports whether this peer has a connection to id now. Then
// an introduction needs no Connect: Connect handshakes again (offering
// every shared book) and, when both sides dial at once, leaves two
// connections.
func (p *Peer) connected(id peer.ID) bool {
	h := p.v.Host()
	return h != nil && h.Network().Connectedness(id) == network.Connected
}

// retryLoop tries again, every Options.Retry, the introductions members
// have not accepted yet (they may not have known us when we tried).
func (p *Peer) retryLoop() {
	defer p.wg.Done()
	t := time.NewTicker(p.o.Retry)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		for _, r := range p.roots {
			for _, m := range r.members {
				if !m.acked && !r.gone[m.id] && !r.gone[p.me] && time.Since(m.lastTry) >= p.o.Retry {
					p.introduceLocked(r, m)
				}
			}
		}
		p.mu.Unlock()
	}
}

// movedLocked: remote, a member of r, introduced itself from new
// addresses. An address belongs to the peer, not to a task, so every
// other task that recorded the old ones gets the new ones too (a peer
// back from a restart introduces itself once, not once per task). Call
// with p.mu held.
func (p *Peer) movedLocked(r *root, remote peer.ID, old, addrs []ma.Multiaddr) {
	if sameAddrs(old, addrs) {
		return
	}
	for _, o := range p.roots {
		m := o.members[remote]
		if o == r || m == nil || !sameAddrs(m.addrs, old) {
			continue
		}
		m.addrs = addrs
		p.recordLater(&pb.Record{Body: &pb.Record_Member{Member: &pb.Member{
			Task: o.id[:], PeerId: []byte(remote), Book: m.book, Addrs: encodeAddrs(addrs),
		}}})
	}
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
