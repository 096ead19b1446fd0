package peer

import (
	"context"

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
		l := r.log(s.author)
		start := l.next
		last := l.lastClock
		p.mu.Unlock()
		i := start
		var back []uint64
		for ; i < s.length; i++ {
			page, err := s.get(p.ctx, i)
			if err != nil {
				if s.book != nil {
					p.awaitPage(r.id, s.book, i)
				}
				break // not here yet
			}
			env, err := decode(s.author, i, page)
			d := decoded{env: env, err: err, key: cursorKey{Clock: last, Author: s.author, Index: i}}
			if err == nil {
				if env.Meta.Clock <= last {
					d.env, d.err = nil, errClock
					back = append(back, i)
				} else {
					last = env.Meta.Clock
					d.key.Clock = last
				}
			}
			fresh = append(fresh, d)
		}
		p.mu.Lock()
		l.next, l.lastClock = i, last
		for _, b := range back {
			if l.backwards == nil {
				l.backwards = map[uint64]bool{}
			}
			l.backwards[b] = true
		}
		if last > r.maxClock {
			r.maxClock = last
		}
		p.mu.Unlock()
	}
	if len(fresh) == 0 {
		return
	}
	p.mu.Lock()
	for _, d := range fresh {
		if d.env == nil {
			continue
		}
		switch d.env.Type {
		case pb.Type_TYPE_JOIN:
			var j pb.Join
			if proto.Unmarshal(d.env.Data, &j) == nil {
				delete(r.gone, peer.ID(j.PeerId))
				p.learnLocked(r, &j)
			}
		case pb.Type_TYPE_LEAVE:
			// Only a member can say it leaves.
			var j pb.Join
			if proto.Unmarshal(d.env.Data, &j) == nil && peer.ID(j.PeerId) == d.key.Author {
				r.gone[d.key.Author] = true
			}
		case pb.Type_TYPE_TASK_UPDATE:
			var u pb.TaskUpdate
			if proto.Unmarshal(d.env.Data, &u) == nil {
				p.applyTaskLocked(r, &u, d.key)
			}
		case pb.Type_TYPE_EDIT, pb.Type_TYPE_DELETE, pb.Type_TYPE_REACTION:
			r.applied.add(d.key.Author, d.key, d.env)
		}
	}
	subs := make([]*Subscription, 0, len(r.subs))
	for s := range r.subs {
		subs = append(subs, s)
	}
	present, _ := r.checked()
	p.mu.Unlock()
	for _, s := range subs {
		s.offer(present)
	}
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
