package peer

import (
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// A subscription's queue: what it has read ahead for a reader that has
// not taken it yet. The rest stays on disk, so a slow reader costs at
// most this much memory whatever the task's traffic.
const (
	subQueue = 64        // messages
	subBytes = 256 << 10 // bytes of text (one longer message still goes)
)

// Subscription delivers each new message of a task once, in timeline
// order among those that arrive together, and only after everything it
// references; per author, in index order. Edits, deletes and reactions
// come as messages of their own. It reads messages from disk as its
// reader takes them (a queue of at most 64 messages or 256 KiB of text):
// a slow reader never makes the writer or other subscribers wait, and
// one that falls more than Options.MaxLag messages behind is ended: C
// closes and Err is ErrLagged.
type Subscription struct {
	C <-chan *Message

	p      *Peer
	r      *root
	c      chan *Message
	task   TaskID
	start  Progress
	live   map[peer.ID]uint64 // what the watcher had read when it started
	maxLag int
	wake   chan struct{}
	done   chan struct{}
	once   sync.Once

	mu   sync.Mutex
	next map[peer.ID]uint64 // per author: the next index to read (absent: 1)
	// seen is, per author, the watcher's next index when s last counted
	// that author's log, and behind the messages s lags by, counted over
	// seen: lag updates only the authors the watcher read, and fill only
	// those it reads, so a message costs each subscription O(1), not a
	// loop over the members.
	seen   map[peer.ID]uint64
	behind int
	// ready are the authors whose logs may hold checked pages not yet
	// handed over (nil: every author's): a wake reads only those, so a
	// message costs O(1) whatever the number of members.
	ready map[peer.ID]bool
	// spare is the other of ready's two maps, cleared: takeReady hands
	// ready to fill and makes spare the new ready, and fill gives it back,
	// so a wake allocates no map.
	spare map[peer.ID]bool
	err   error
}

// Subscribe starts a live subscription to task; messages already in the
// timeline are not delivered.
func (p *Peer) Subscribe(task TaskID) (*Subscription, error) {
	return p.SubscribeAfter(task, nil)
}

// SubscribeAfter starts a subscription to task that first delivers every
// message after the position after (a Progress a subscriber kept: what
// it missed, from disk), then goes on live. A nil after is Subscribe. A
// position ahead of what this peer has read is ErrInvalid.
func (p *Peer) SubscribeAfter(task TaskID, after Progress) (*Subscription, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	r := p.roots[p.rootOf(task)]
	if r == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoTask, task)
	}
	start := after.Clone()
	for a, i := range after {
		if l := r.logs[a]; i > 0 && (l == nil || i >= l.next) {
			return nil, fmt.Errorf("%w: position %s is ahead of this peer", ErrInvalid, Head{Author: a, Index: i})
		}
	}
	if after == nil {
		for a, l := range r.logs {
			start[a] = l.next - 1
		}
	}
	c := make(chan *Message)
	live, _ := r.checked()
	s := &Subscription{C: c, p: p, r: r, c: c, task: task, start: start, live: live, maxLag: p.o.MaxLag,
		wake: make(chan struct{}, 1), done: make(chan struct{}), next: map[peer.ID]uint64{}, seen: map[peer.ID]uint64{}}
	for a, i := range start {
		s.next[a] = i + 1
	}
	s.countAll(r)
	r.subs[s] = struct{}{}
	s.poke() // what after left out is there already
	go s.pump()
	return s, nil
}

// Start is where the subscription starts: after, or for Subscribe the
// last message of each author read before it.
func (s *Subscription) Start() Progress { return s.start.Clone() }

// Close ends the subscription and closes C.
func (s *Subscription) Close() { s.end(nil) }

// Err says why C closed: ErrLagged, ErrClosed (the peer closed), or nil
// after Close.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// end stops the subscription once, for the reason err.
func (s *Subscription) end(err error) {
	s.once.Do(func() {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		s.p.mu.Lock()
		delete(s.r.subs, s)
		s.p.mu.Unlock()
		close(s.done)
	})
}

func (s *Subscription) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Subscription) pump() {
	defer close(s.c)
	var queue []*Message
	for {
		if len(queue) == 0 {
			queue = s.fill()
		}
		if len(queue) == 0 {
			select {
			case <-s.wake:
				continue
			case <-s.done:
				return
			}
		}
		select {
		case s.c <- queue[0]:
			queue = queue[1:]
		case <-s.done:
			return
		}
	}
}

// lag is how many messages the watcher has read in r that the
// subscription has not handed over, after the watcher read new pages of
// authors' logs. Call with p.mu held.
func (s *Subscription) lag(r *root, authors []peer.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range authors {
		if l := r.logs[a]; l != nil {
			s.behind -= s.lagOf(a)
			s.seen[a] = l.next
			s.behind += s.lagOf(a)
		}
	}
	return s.behind
}

// countAll counts every log of r afresh (when s starts). Call with p.mu
// held.
func (s *Subscription) countAll(r *root) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behind = 0
	for a, l := range r.logs {
		s.seen[a] = l.next
		s.behind += s.lagOf(a)
	}
}

// lagOf is how many messages of author a's log s lags by, as far as it
// has seen the log. What SubscribeAfter replays does not count: it is
// read from disk at the reader's pace. Call with s.mu held.
func (s *Subscription) lagOf(a peer.ID) int {
	if from := max(s.nextOf(a), s.live[a]); s.seen[a] > from {
		return int(s.seen[a] - from)
	}
	return 0
}

// advance moves s's next index of author a to i. Call with s.mu held.
func (s *Subscription) advance(a peer.ID, i uint64) {
	s.behind -= s.lagOf(a)
	s.next[a] = i
	s.behind += s.lagOf(a)
}

// offer tells the subscription that the watcher has read new pages of
// authors' logs and that it lags behind messages (lag): it wakes the
// reader, or ends a subscription that fell too far behind. It never
// waits for the reader.
func (s *Subscription) offer(authors []peer.ID, behind int) {
	if behind > s.maxLag {
		s.end(fmt.Errorf("%w: %d messages unread (max %d)", ErrLagged, behind, s.maxLag))
		return
	}
	s.mu.Lock()
	if s.ready != nil {
		for _, a := range authors {
			s.ready[a] = true
		}
	}
	s.mu.Unlock()
	s.poke()
}

// takeReady returns, and forgets, the authors to read (everything: all).
// Call with s.mu held.
func (s *Subscription) takeReady() *changed {
	c := everything
	if s.ready != nil {
		c = &changed{authors: s.ready}
	}
	s.ready, s.spare = s.spare, nil
	if s.ready == nil {
		s.ready = map[peer.ID]bool{}
	}
	return c
}

// giveBack makes c's map, once fill is done with it, the next spare.
// Call with s.mu held.
func (s *Subscription) giveBack(c *changed) {
	if !c.all && s.spare == nil {
		clear(c.authors)
		s.spare = c.authors
	}
}

// nextOf is the next index of author a to read. Call with s.mu held.
func (s *Subscription) nextOf(a peer.ID) uint64 {
	if n, ok := s.next[a]; ok {
		return n
	}
	return 1
}
