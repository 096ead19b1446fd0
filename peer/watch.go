package peer

import (
	"context"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/peer/pb"
)

// The watcher reads every log of every task forward as pages arrive: it
// learns members from join messages and task structure from task updates,
// keeps the Lamport clock, and feeds live subscriptions.

func (p *Peer) watchLoop() {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.kick:
			// Events first: an introduction handled here names the book
			// whose pages the scan below reads.
			p.handleEvents()
			all, tasks := p.takeWakes()
			if all {
				p.scan()
				continue
			}
			for _, t := range tasks {
				p.mu.Lock()
				r := p.roots[t]
				p.mu.Unlock()
				if r != nil {
					p.scanOne(r)
				}
			}
		}
	}
}

// source is one author's log as the watcher and the timeline read it.
type source struct {
	author peer.ID
	book   *book.Book // a member's book; nil for this peer's own log
	length uint64
	get    func(ctx context.Context, i uint64) ([]byte, error)
}

// sources lists the logs of r: this peer's and each member's book for
// it. Call with p.mu held.
func (p *Peer) sources(r *root) []source {
	n, get := p.myLog(r)
	out := []source{{author: p.me, length: n, get: get}}
	for _, m := range r.members {
		b := p.memberBook(r, m)
		if b == nil {
			continue
		}
		out = append(out, source{author: m.id, book: b, length: b.Length(), get: func(ctx context.Context, i uint64) ([]byte, error) {
			return b.Get(ctx, i, &book.GetOptions{LocalOnly: true})
		}})
	}
	return out
}

// scan reads every new page of every log.
func (p *Peer) scan() {
	p.scanMu.Lock()
	defer p.scanMu.Unlock()
	for _, r := range p.rootList() {
		p.scanRoot(r)
	}
}

// scanOne reads the new pages of one task's logs (after this peer wrote
// to it: the other tasks did not change).
func (p *Peer) scanOne(r *root) {
	p.scanMu.Lock()
	defer p.scanMu.Unlock()
	p.scanRoot(r)
}

// decoded is one page of a log, decoded and checked.
type decoded struct {
	env *pb.Envelope
	key cursorKey
	err error
}

// decode checks that page i of author's log is an envelope of that
// author at that index, whose clock follows prev.
func decode(author peer.ID, i uint64, page []byte) (*pb.Envelope, error) {
	var env pb.Envelope
	if err := proto.Unmarshal(page, &env); err != nil {
		return nil, errUndecodable
	}
	if env.Head == nil || peer.ID(env.Head.Author) != author || env.Head.Index != i || env.Meta == nil {
		return nil, errForged
	}
	return &env, nil
}

// scanRoot is the shell around the core (core.go) for one task: it reads
// each log's new pages from the books, then folds them and runs the
// effects under p.mu.
func (p *Peer) scanRoot(r *root) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	srcs := p.sources(r)
	p.mu.Unlock()
	var fresh []decoded
	for _, s := range srcs {
		p.mu.Lock()
		start := r.log(s.author).next
		p.mu.Unlock()
		pages := p.readFrom(r, s, start)
		p.mu.Lock()
		if r.log(s.author).next == start { // scanMu makes this hold; checked all the same
			fresh = append(fresh, ingest(r, s.author, pages)...)
		}
		p.mu.Unlock()
	}
	if len(fresh) == 0 {
		return
	}
	p.mu.Lock()
	effs := p.settle(r, fresh)
	p.run(p.ctx, effs)
	offer := slices.ContainsFunc(effs, func(e effect) bool { return e.fresh })
	subs := make([]*Subscription, 0, len(r.subs))
	for s := range r.subs {
		subs = append(subs, s)
	}
	present, _ := r.checked()
	p.mu.Unlock()
	if !offer {
		return
	}
	for _, s := range subs {
		s.offer(present)
	}
}

// readFrom reads s's pages from start up to its length, stopping at the
// first one not stored here yet (and waiting for it in the background).
func (p *Peer) readFrom(r *root, s source, start uint64) [][]byte {
	var pages [][]byte
	for i := start; i < s.length; i++ {
		page, err := s.get(p.ctx, i)
		if err != nil {
			if s.book != nil {
				p.awaitPage(r.id, s.book, i)
			}
			break // not here yet
		}
		pages = append(pages, page)
	}
	return pages
}

// memberBook is m's book for this peer, opened once and kept (nil until
// m introduced it), and watched. Call with p.mu held.
func (p *Peer) memberBook(r *root, m *member) *book.Book {
	if m.book == nil {
		return nil
	}
	if m.b != nil && m.b.Key().Equal(m.book) && !m.b.Closed() {
		return m.b
	}
	b, err := p.v.DB().OpenKey(p.ctx, m.book)
	if err != nil {
		return nil
	}
	m.b = b
	p.watch(r.id, b)
	return b
}
