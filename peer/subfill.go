package peer

import (
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer/pb"
)

// fill reads the subscription's next messages from disk: the pages the
// watcher has checked and s has not handed over, merged across authors
// by timeline position, at most subQueue of them or subBytes of text. A
// page whose references have not arrived waits, and so do its author's
// later pages, so that each author's messages go out in index order.
func (s *Subscription) fill() []*Message {
	p := s.p
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	s.mu.Lock()
	if s.ready != nil && len(s.ready) == 0 {
		// No author's log grew since the last fill (the pump fills again
		// after handing over what it had): nothing to read.
		s.mu.Unlock()
		p.mu.Unlock()
		return nil
	}
	c := s.takeReady()
	s.mu.Unlock()
	srcs := p.sourcesOf(s.r, c)
	present, back := s.r.checkedOf(srcs)
	p.mu.Unlock()

	f := &forward{srcs: srcs, present: present, back: back, s: s, pos: make([]uint64, 0, len(srcs))}
	s.mu.Lock()
	for i := range srcs {
		f.pos = append(f.pos, s.nextOf(srcs[i].author))
	}
	s.mu.Unlock()
	for i := range srcs {
		f.pull(i)
	}
	var out []*Message
	size := 0
	for len(out) < subQueue && size < subBytes && f.h.Len() > 0 {
		it := popItem(&f.h.msgHeap, earlier)
		if env := f.env[it.m]; env != nil && !f.refsOut(env) {
			f.pos[it.src]-- // it waits, and its author's later pages with it
			continue
		}
		delete(f.env, it.m)
		if it.m.Task == s.task {
			out = append(out, it.m)
			size += len(it.m.Text)
		}
		f.pull(it.src)
	}
	for _, it := range f.h.msgHeap {
		f.pos[it.src] = it.m.Head.Index // read again next time
	}
	s.mu.Lock()
	s.giveBack(c)
	for i, src := range srcs {
		if f.pos[i] > s.nextOf(src.author) {
			s.advance(src.author, f.pos[i])
		}
		if f.pos[i] < present[src.author] {
			s.ready[src.author] = true // held back, or the queue is full
		}
	}
	s.mu.Unlock()
	return out
}

// forward reads each log forwards from a subscription's position.
type forward struct {
	s       *Subscription
	srcs    []source
	present map[peer.ID]uint64
	back    map[peer.ID]map[uint64]bool
	pos     []uint64 // per source: the next index to read
	h       minHeap
	env     map[*Message]*pb.Envelope
}

// pull puts the next page of source i (one the watcher has checked) on
// the heap.
func (f *forward) pull(i int) {
	src := f.srcs[i]
	idx := f.pos[i]
	if idx >= f.present[src.author] || idx >= src.length {
		return
	}
	page, err := src.page(f.s.p.ctx, idx)
	if err != nil {
		return // not here yet
	}
	f.pos[i]++
	env, err := decode(src.author, idx, page)
	if err == nil && f.back[src.author][idx] {
		err = errClock
	}
	var m *Message
	if err != nil {
		m = &Message{Head: Head{Author: src.author, Index: idx}, Err: err, Task: f.s.task, Clock: f.clockBefore(i, idx)}
	} else {
		m = toMessage(src.author, nil, idx, env)
		if f.env == nil {
			f.env = map[*Message]*pb.Envelope{}
		}
		f.env[m] = env
	}
	pushItem(&f.h.msgHeap, heapItem{m: m, src: i}, earlier)
}

// clockBefore is the clock of page idx-1 of source i when it is a good
// message: where an unreadable page sorts (else 0, early).
func (f *forward) clockBefore(i int, idx uint64) uint64 {
	src := f.srcs[i]
	if idx < 2 || f.back[src.author][idx-1] {
		return 0
	}
	page, err := src.page(f.s.p.ctx, idx-1)
	if err != nil {
		return 0
	}
	if env, err := decode(src.author, idx-1, page); err == nil {
		return env.Meta.Clock
	}
	return 0
}

// refsOut reports whether every message env references is on its way
// to the reader: on the heap (a log read this time, up to what the
// watcher had checked) or handed over already (any other log: the
// subscription has handed over all it had checked when this fill began).
func (f *forward) refsOut(env *pb.Envelope) bool {
	for _, r := range env.Refs {
		if r.Head == nil {
			continue
		}
		a := peer.ID(r.Head.Author)
		n, ok := f.present[a]
		if !ok {
			f.s.mu.Lock()
			n = f.s.nextOf(a)
			f.s.mu.Unlock()
		}
		if n <= r.Head.Index {
			return false
		}
	}
	return true
}

// refsIn reports whether every message env references has been read.
func refsIn(env *pb.Envelope, present map[peer.ID]uint64) bool {
	for _, r := range env.Refs {
		if r.Head != nil && present[peer.ID(r.Head.Author)] <= r.Head.Index {
			return false
		}
	}
	return true
}

// minHeap orders messages by timeline position, oldest first (earlier).
type minHeap struct{ msgHeap }
