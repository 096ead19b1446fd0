package peer

import (
	"sort"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer/pb"
)

// Subscription delivers each new message of a task once, in timeline
// order among those that arrive together, and only after everything it
// references. Edits, deletes and reactions come as messages of their own.
// It never drops: a slow reader only delays its own queue.
type Subscription struct {
	C <-chan *Message

	c       chan *Message
	task    TaskID
	wake    chan struct{}
	done    chan struct{}
	once    sync.Once
	cancel  func()
	mu      sync.Mutex
	held    []pendingMsg // waiting for references
	queue   []*Message
	stopped bool
}

type pendingMsg struct {
	m   *Message
	env *pb.Envelope
}

// Subscribe starts a live subscription to task; messages already in the
// timeline are not delivered.
func (p *Peer) Subscribe(task TaskID) (*Subscription, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	r := p.roots[p.rootOf(task)]
	if r == nil {
		return nil, ErrNoTask
	}
	c := make(chan *Message)
	s := &Subscription{C: c, c: c, task: task, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.cancel = func() {
		p.mu.Lock()
		delete(r.subs, s)
		p.mu.Unlock()
	}
	r.subs[s] = struct{}{}
	go s.pump()
	return s, nil
}

// Close ends the subscription and closes C.
func (s *Subscription) Close() {
	s.cancel()
	s.close()
}

func (s *Subscription) close() { s.once.Do(func() { close(s.done) }) }

func (s *Subscription) pump() {
	defer close(s.c)
	for {
		s.mu.Lock()
		var m *Message
		if len(s.queue) > 0 {
			m = s.queue[0]
		}
		s.mu.Unlock()
		if m == nil {
			select {
			case <-s.wake:
				continue
			case <-s.done:
				return
			}
		}
		select {
		case s.c <- m:
			s.mu.Lock()
			s.queue = s.queue[1:]
			s.mu.Unlock()
		case <-s.done:
			return
		}
	}
}

// offer hands the subscription the pages the watcher just read.
func (s *Subscription) offer(p *Peer, r *root, fresh []decoded) {
	p.mu.Lock()
	present := map[peer.ID]uint64{}
	for a, l := range r.logs {
		present[a] = l.next
	}
	p.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range fresh {
		if d.env == nil {
			m := &Message{Head: Head{Author: d.key.Author, Index: d.key.Index}, Clock: d.key.Clock, Err: d.err, Task: s.task}
			s.held = append(s.held, pendingMsg{m: m})
			continue
		}
		s.held = append(s.held, pendingMsg{m: toMessage(d.key.Author, nil, d.key.Index, d.env), env: d.env})
	}
	var ready []*Message
	keep := s.held[:0]
	for _, pm := range s.held {
		ok := true
		if pm.env != nil {
			for _, ref := range pm.env.Refs {
				if ref.Head != nil && present[peer.ID(ref.Head.Author)] <= ref.Head.Index {
					ok = false
					break
				}
			}
		}
		if !ok {
			keep = append(keep, pm)
			continue
		}
		if pm.m.Task == s.task {
			ready = append(ready, pm.m)
		}
	}
	s.held = keep
	sort.Slice(ready, func(i, j int) bool { return ready[i].Key().less(ready[j].Key()) })
	s.queue = append(s.queue, ready...)
	if len(ready) > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}
