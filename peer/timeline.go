package peer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// Message is one entry of a timeline.
type Message struct {
	Head      Head
	Task      TaskID
	Type      pb.Type
	Text      string    // text, reply (after edits); the reaction
	Ref       *Head     // reply-to, edit-of, delete-of or react-to
	Time      time.Time // the author's clock, clamped to now: display only
	Clock     uint64    // Lamport clock: the order
	Edited    bool      // the text is the author's latest edit
	Deleted   bool      // tombstoned by its author
	Reactions map[string][]peer.ID
	Member    peer.ID        // join and leave: who
	Update    *pb.TaskUpdate // task update
	Err       error          // the page could not be read as a message
}

// Cursor is a position in a timeline, for paging backwards.
type Cursor = cursorKey

// Key is m's position in the timeline.
func (m *Message) Key() Cursor {
	return cursorKey{Clock: m.Clock, Author: m.Head.Author, Index: m.Head.Index}
}

// TimelineOptions selects a page of a timeline.
type TimelineOptions struct {
	// Limit is the most messages returned. Default 50.
	Limit int
	// Before returns messages older than this position (the Key of the
	// oldest message of the previous page). Default: from the newest.
	Before *Cursor
}

// Timeline returns the newest messages of a task (oldest first) merged
// from every member's book in causal order: by Lamport clock, ties broken
// by author then index, so a message always follows everything it
// references. Edits, deletes and reactions are applied to their targets
// rather than listed; a message whose references have not arrived yet is
// held back; a page that is not a message shows with Err set.
func (p *Peer) Timeline(ctx context.Context, task TaskID, o *TimelineOptions) ([]*Message, error) {
	limit := 50
	var before *Cursor
	if o != nil {
		if o.Limit > 0 {
			limit = o.Limit
		}
		before = o.Before
	}
	p.mu.Lock()
	r := p.roots[p.rootOf(task)]
	if r == nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrNoTask, task)
	}
	srcs := p.sources(r)
	present, back := r.checked()
	p.mu.Unlock()

	out := merge(ctx, srcs, present, back, task, limit, before, p.o.Now())
	p.mu.Lock()
	for _, m := range out {
		r.applied.decorate(m)
	}
	p.mu.Unlock()
	return out, nil
}

// merge is the newest limit messages of task shown in its timeline
// (oldest first), before the position before if set, from logs whose
// pages the watcher has checked (present, back): the timeline without
// the edits, deletes and reactions applied (applied.decorate). It reads
// the logs through srcs and nothing else, so the core's script prints a
// timeline the same way.
func merge(ctx context.Context, srcs []source, present map[peer.ID]uint64, back map[peer.ID]map[uint64]bool, task TaskID, limit int, before *Cursor, now time.Time) []*Message {
	w := newWalker(ctx, srcs, present, back, before)
	var out []*Message
	for len(out) < limit {
		m, ok := w.next()
		if !ok {
			break
		}
		if m.Err == nil && !w.refsPresent(m) {
			continue // waits for what it references
		}
		if m.Err == nil && !isShown(m.Type) {
			continue // applied to its target (the watcher's index)
		}
		if m.Err == nil && m.Task != task {
			continue
		}
		if before != nil && !m.Key().less(*before) {
			continue
		}
		if m.Time.After(now) {
			m.Time = now
		}
		out = append(out, m)
	}
	slices.Reverse(out)
	return out
}

// toMessage turns an envelope into a timeline entry.
func toMessage(author peer.ID, book []byte, i uint64, env *pb.Envelope) *Message {
	m := &Message{Head: Head{Author: author, Book: book, Index: i}, Type: env.Type, Clock: env.Meta.Clock, Time: time.UnixMilli(env.Meta.Time)}
	m.Task, _ = taskOf(env.Meta.Task)
	for _, r := range env.Refs {
		if r.Kind != pb.RefKind_REF_SEEN && r.Head != nil {
			m.Ref = &Head{Author: peer.ID(r.Head.Author), Index: r.Head.Index}
			break
		}
	}
	switch env.Type {
	case pb.Type_TYPE_TEXT, pb.Type_TYPE_REPLY, pb.Type_TYPE_EDIT, pb.Type_TYPE_REACTION, pb.Type_TYPE_PROFILE:
		m.Text = string(env.Data)
	case pb.Type_TYPE_JOIN, pb.Type_TYPE_LEAVE:
		var j pb.Join
		if proto.Unmarshal(env.Data, &j) == nil {
			m.Member = peer.ID(j.PeerId)
		}
	case pb.Type_TYPE_TASK_UPDATE:
		var u pb.TaskUpdate
		if proto.Unmarshal(env.Data, &u) == nil {
			m.Update = &u
			m.Task, _ = taskOf(u.Task)
			if parent, ok := taskOf(u.Parent); ok {
				m.Task = parent // a new subtask shows in its parent
			}
		}
	}
	return m
}

// walker merges the logs of a task newest first.
type walker struct {
	ctx     context.Context
	srcs    []source
	present map[peer.ID]uint64          // per author: pages the watcher has read
	back    map[peer.ID]map[uint64]bool // per author: pages it refused for their clock
	pos     []uint64                    // next index to read backwards, per source (+1)
	h       msgHeap
	env     map[*Message]*pb.Envelope
}

// checked is, per author, how far the watcher has read and which pages it
// refused for a clock going backwards. Call with p.mu held.
func (r *root) checked() (map[peer.ID]uint64, map[peer.ID]map[uint64]bool) {
	present, back := map[peer.ID]uint64{}, map[peer.ID]map[uint64]bool{}
	for a, l := range r.logs {
		present[a] = l.next
		if len(l.backwards) > 0 {
			back[a] = maps.Clone(l.backwards)
		}
	}
	return present, back
}

// checkedOf is checked for the authors of srcs only. Call with p.mu held.
func (r *root) checkedOf(srcs []source) (map[peer.ID]uint64, map[peer.ID]map[uint64]bool) {
	present := make(map[peer.ID]uint64, len(srcs))
	var back map[peer.ID]map[uint64]bool // nil unless a log has such pages: reads of nil are fine
	for _, s := range srcs {
		l := r.logs[s.author]
		if l == nil {
			continue
		}
		present[s.author] = l.next
		if len(l.backwards) > 0 {
			if back == nil {
				back = map[peer.ID]map[uint64]bool{}
			}
			back[s.author] = maps.Clone(l.backwards)
		}
	}
	return present, back
}

// newWalker starts each log at its newest checked page, or, with before,
// at the newest page before that position (found by binary search: clocks
// grow along each author's log), so that any page costs O(log n) reads to
// reach.
func newWalker(ctx context.Context, srcs []source, present map[peer.ID]uint64, back map[peer.ID]map[uint64]bool, before *Cursor) *walker {
	w := &walker{ctx: ctx, srcs: srcs, present: present, back: back, pos: make([]uint64, len(srcs)), env: map[*Message]*pb.Envelope{}}
	for i, s := range srcs {
		w.pos[i] = s.length
		if n := present[s.author]; n < w.pos[i] {
			w.pos[i] = n // only what the watcher has checked
		}
		if before != nil {
			w.pos[i] = w.seek(i, w.pos[i], *before)
		}
		w.pull(i)
	}
	return w
}

// seek returns the end (exclusive) of source i's pages before c among
// [1, end).
func (w *walker) seek(i int, end uint64, c Cursor) uint64 {
	lo, hi := uint64(1), end
	for lo < hi {
		mid := lo + (hi-lo)/2
		if w.keyAt(i, mid).less(c) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// keyAt is the timeline position of page idx of source i.
func (w *walker) keyAt(i int, idx uint64) Cursor {
	s := w.srcs[i]
	if page, err := s.page(w.ctx, idx); err == nil {
		if env, err := decode(s.author, idx, page); err == nil && !w.back[s.author][idx] {
			return Cursor{Clock: env.Meta.Clock, Author: s.author, Index: idx}
		}
	}
	return Cursor{Clock: w.clockBefore(i, idx), Author: s.author, Index: idx}
}

// pull reads the next older message of source i onto the heap.
func (w *walker) pull(i int) {
	s := w.srcs[i]
	for w.pos[i] > 1 {
		w.pos[i]--
		idx := w.pos[i]
		page, err := s.page(w.ctx, idx)
		if err != nil {
			continue
		}
		env, err := decode(s.author, idx, page)
		if err == nil && w.back[s.author][idx] {
			err = errClock
		}
		var m *Message
		if err != nil {
			m = &Message{Head: Head{Author: s.author, Index: idx}, Err: err, Clock: w.clockBefore(i, idx)}
		} else {
			m = toMessage(s.author, nil, idx, env)
			w.env[m] = env
		}
		pushItem(&w.h, heapItem{m: m, src: i}, later)
		return
	}
}

// clockBefore is the clock of the newest good message of source i below
// idx: where an unreadable page sorts.
func (w *walker) clockBefore(i int, idx uint64) uint64 {
	s := w.srcs[i]
	for j := idx; j > 1; j-- {
		page, err := s.page(w.ctx, j-1)
		if err != nil {
			continue
		}
		if env, err := decode(s.author, j-1, page); err == nil && !w.back[s.author][j-1] {
			return env.Meta.Clock
		}
	}
	return 0
}

func (w *walker) next() (*Message, bool) {
	if w.h.Len() == 0 {
		return nil, false
	}
	it := popItem(&w.h, later)
	w.pull(it.src)
	return it.m, true
}

// refsPresent reports whether every message m references has arrived.
func (w *walker) refsPresent(m *Message) bool {
	env := w.env[m]
	return env == nil || refsIn(env, w.present)
}

type heapItem struct {
	m   *Message
	src int
}

// msgHeap is a max-heap by timeline position.
type msgHeap []heapItem

func (h msgHeap) Len() int { return len(h) }

// later and earlier order heap items: the walker's heap pops the newest
// first, a subscription's the oldest.
func later(a, b heapItem) bool   { return b.m.Key().less(a.m.Key()) }
func earlier(a, b heapItem) bool { return a.m.Key().less(b.m.Key()) }

// pushItem and popItem are container/heap's Push and Pop on a slice of
// heapItem, with top(a, b) true when a comes out before b: container/heap
// boxes each item in an any, an allocation per push and per pop.
func pushItem(h *msgHeap, it heapItem, top func(a, b heapItem) bool) {
	*h = append(*h, it)
	s := *h
	for j := len(s) - 1; j > 0; {
		i := (j - 1) / 2
		if !top(s[j], s[i]) {
			break
		}
		s[i], s[j] = s[j], s[i]
		j = i
	}
}

func popItem(h *msgHeap, top func(a, b heapItem) bool) heapItem {
	s := *h
	n := len(s) - 1
	s[0], s[n] = s[n], s[0]
	for i := 0; ; {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && top(s[r], s[j]) {
			j = r
		}
		if !top(s[j], s[i]) {
			break
		}
		s[i], s[j] = s[j], s[i]
		i = j
	}
	it := s[n]
	*h = s[:n]
	return it
}

// Unread counts the messages of others in task newer than its read marker.
func (p *Peer) Unread(ctx context.Context, task TaskID) (int, error) {
	p.mu.Lock()
	r := p.roots[p.rootOf(task)]
	if r == nil {
		p.mu.Unlock()
		return 0, fmt.Errorf("%w: %s", ErrNoTask, task)
	}
	srcs, marker := p.sources(r), r.read
	present, back := r.checked()
	p.mu.Unlock()
	return unread(ctx, srcs, present, back, marker, p.me, task), nil
}

// unread is Unread as a function of the logs alone (srcs, with what is
// present and what went back) and the read marker: the messages of
// others than me in task newer than marker, edits, deletes and
// reactions aside.
func unread(ctx context.Context, srcs []source, present map[peer.ID]uint64, back map[peer.ID]map[uint64]bool, marker cursorKey, me peer.ID, task TaskID) int {
	w := newWalker(ctx, srcs, present, back, nil)
	n := 0
	for {
		m, ok := w.next()
		if !ok || (!marker.zero() && !marker.less(m.Key())) {
			return n
		}
		if m.Head.Author != me && m.Err == nil && m.Task == task && isShown(m.Type) {
			n++
		}
	}
}

func isShown(t pb.Type) bool {
	return t != pb.Type_TYPE_EDIT && t != pb.Type_TYPE_DELETE && t != pb.Type_TYPE_REACTION
}

// MarkRead moves the read marker of a task's root to its newest message.
func (p *Peer) MarkRead(ctx context.Context, task TaskID) error {
	ms, err := p.Timeline(ctx, task, &TimelineOptions{Limit: 1})
	if err != nil || len(ms) == 0 {
		return err
	}
	k := ms[0].Key()
	return p.step(ctx, func() ([]effect, error) { return p.markRead(task, k) })
}
