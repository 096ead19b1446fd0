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

// watch makes changes of b wake the watcher.
func (p *Peer) watch(b *book.Book) {
	p.mu.Lock()
	if p.watched[string(b.Key())] || p.closed {
		p.mu.Unlock()
		return
	}
	p.watched[string(b.Key())] = true
	p.mu.Unlock()
	sub := b.Subscribe()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer sub.Close()
		for {
			select {
			case <-p.ctx.Done():
				return
			case _, ok := <-sub.C:
				if !ok {
					return
				}
				p.poke()
			}
		}
	}()
}

func (p *Peer) watchLoop() {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.kick:
			p.scan()
		}
	}
}

// source is one author's log as the watcher and the timeline read it.
type source struct {
	author peer.ID
	length uint64
	get    func(ctx context.Context, i uint64) ([]byte, error)
}

// sources lists the logs of r: this peer's and each member's book for
// it. Call with p.mu held.
func (p *Peer) sources(r *root) []source {
	n, get := p.myLog(r)
	out := []source{{author: p.me, length: n, get: get}}
	for _, m := range r.members {
		if m.book == nil {
			continue
		}
		b, err := p.v.DB().OpenKey(p.ctx, m.book)
		if err != nil {
			continue
		}
		out = append(out, source{author: m.id, length: b.Length(), get: func(ctx context.Context, i uint64) ([]byte, error) {
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
		if s.author != p.me {
			if b := p.bookOf(r, s.author); b != nil {
				p.watch(b)
			}
		}
		i := start
		var back []uint64
		for ; i < s.length; i++ {
			page, err := s.get(p.ctx, i)
			if err != nil {
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
		case pb.Type_TYPE_PROFILE:
			p.renamedLocked(d.key.Author, string(d.env.Data))
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

// bookOf is m's book for this peer, if introduced.
func (p *Peer) bookOf(r *root, a peer.ID) *book.Book {
	p.mu.Lock()
	var key []byte // m.book changes under p.mu (accept)
	if m := r.members[a]; m != nil {
		key = m.book
	}
	p.mu.Unlock()
	if key == nil {
		return nil
	}
	b, err := p.v.DB().OpenKey(p.ctx, key)
	if err != nil {
		return nil
	}
	return b
}
