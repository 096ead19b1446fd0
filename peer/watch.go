package peer

import (
	"bytes"
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
				p.recycle(tasks)
				continue
			}
			for t, c := range tasks {
				p.mu.Lock()
				r := p.roots[t]
				p.mu.Unlock()
				if r != nil {
					p.scanOne(r, c)
				}
			}
			p.recycle(tasks)
		}
	}
}

// source is one author's log as the watcher and the timeline read it.
type source struct {
	author peer.ID
	book   *book.Book // a member's book; nil for this peer's own log
	length uint64
	// get reads this peer's own log (book nil); read any log with page.
	get func(ctx context.Context, i uint64) ([]byte, error)
}

// sources lists the logs of r: this peer's and each member's book for
// it. Call with p.mu held.
func (p *Peer) sources(r *root) []source {
	return p.sourcesOf(r, everything)
}

// sourcesOf lists the logs of r that c names (all of them, or some
// authors'), so that reading what changed costs O(authors changed), not
// O(members). Call with p.mu held.
func (p *Peer) sourcesOf(r *root, c *changed) []source {
	if c.all {
		out := make([]source, 0, len(r.members)+1)
		out = append(out, p.mySource(r))
		for _, m := range r.members {
			if s, ok := p.memberSource(r, m); ok {
				out = append(out, s)
			}
		}
		return out
	}
	out := make([]source, 0, len(c.authors))
	for a := range c.authors {
		if a == p.me {
			out = append(out, p.mySource(r))
		} else if m := r.members[a]; m != nil {
			if s, ok := p.memberSource(r, m); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func (p *Peer) mySource(r *root) source {
	n, get := p.myLog(r)
	return source{author: p.me, length: n, get: get}
}

// memberSource is m's log in r, once m introduced its book.
func (p *Peer) memberSource(r *root, m *member) (source, bool) {
	b := p.memberBook(r, m)
	if b == nil {
		return source{}, false
	}
	return source{author: m.id, book: b, length: b.Length()}, true
}

// page reads page i of the log: a member's from its book (no closure
// made per source: sources are listed at each wake), ours through get.
func (s *source) page(ctx context.Context, i uint64) ([]byte, error) {
	if s.book != nil {
		return s.book.Get(ctx, i, &book.GetOptions{LocalOnly: true})
	}
	return s.get(ctx, i)
}

// scan reads every new page of every log.
func (p *Peer) scan() {
	p.scanMu.Lock()
	defer p.scanMu.Unlock()
	for _, r := range p.rootList() {
		p.scanRoot(r, everything)
	}
}

// scanOne reads the new pages of the logs c names in one task (the other
// tasks did not change).
func (p *Peer) scanOne(r *root, c *changed) {
	p.scanMu.Lock()
	defer p.scanMu.Unlock()
	p.scanRoot(r, c)
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
// the new pages of the logs c names from the books, then folds them and
// runs the effects under p.mu.
func (p *Peer) scanRoot(r *root, c *changed) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	srcs := p.sourcesOf(r, c)
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
	var authors []peer.ID // those with fresh pages, in order
	for _, d := range fresh {
		if len(authors) == 0 || authors[len(authors)-1] != d.key.Author {
			authors = append(authors, d.key.Author)
		}
	}
	p.mu.Lock()
	effs := p.settle(r, fresh)
	p.run(p.ctx, effs)
	p.stepped(r.id)
	offer := slices.ContainsFunc(effs, func(e effect) bool { return e.fresh })
	var subs []*Subscription
	var lags []int
	for s := range r.subs {
		// Counted even when nothing is offered: the logs grew.
		if l := s.lag(r, authors); offer {
			subs, lags = append(subs, s), append(lags, l)
		}
	}
	p.mu.Unlock()
	for i, s := range subs {
		s.offer(authors, lags[i])
	}
}

// readFrom reads s's pages from start up to its length, stopping at the
// first one not stored here yet (and waiting for it in the background).
func (p *Peer) readFrom(r *root, s source, start uint64) [][]byte {
	var pages [][]byte
	for i := start; i < s.length; i++ {
		page, err := s.page(p.ctx, i)
		if err != nil {
			if s.book != nil {
				p.awaitPage(r.id, s.author, s.book, i)
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
	// A plain compare: both keys are public.
	if m.b != nil && bytes.Equal(m.b.Key(), m.book) && !m.b.Closed() {
		return m.b
	}
	b, err := p.v.DB().OpenKey(p.ctx, m.book)
	if err != nil {
		return nil
	}
	m.b = b
	p.watch(r.id, m.id, b)
	return b
}
