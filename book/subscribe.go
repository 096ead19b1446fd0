package book

import (
	"context"
	"sync"
)

// Update is what a subscriber learns on every change: the new signed state.
// A page stored without a length change (sparse replication) sends the
// same Length again.
type Update struct {
	Length     uint64
	ByteLength uint64
	Fork       uint64
}

// Subscription delivers updates of one book on C.
//
// Slow-reader policy: C has room for one update and always holds the newest
// one. A writer never blocks on a subscriber: when the reader has not taken
// the previous update, it is replaced by the newer one. So a reader sees
// every state it has time for and always the latest; it reads the pages it
// skipped from the book. C is closed by Close or when the book closes.
type Subscription struct {
	C  <-chan Update
	c  chan Update
	n  *notifier
	id uint64
}

// Close stops the subscription and closes C.
func (s *Subscription) Close() { s.n.unsubscribe(s.id) }

// notifier broadcasts state changes to subscriptions and waiters.
type notifier struct {
	mu      sync.Mutex
	subs    map[uint64]chan Update
	nextID  uint64
	changed chan struct{} // closed and replaced on every change
	done    bool
	// watchers are the functions Watch registered (watch.go), by the
	// same ids as subs.
	watchers map[uint64]func()
}

func (n *notifier) init() {
	n.subs = make(map[uint64]chan Update)
	n.changed = make(chan struct{})
}

// publish wakes every waiter and offers u to every subscriber without
// blocking (see Subscription for the policy).
func (n *notifier) publish(u Update) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done {
		return
	}
	close(n.changed)
	n.changed = make(chan struct{})
	n.callWatchers()
	for _, c := range n.subs {
		select {
		case c <- u:
			continue
		default:
		}
		select { // drop the stale update, then offer the new one
		case <-c:
		default:
		}
		select {
		case c <- u:
		default:
		}
	}
}

// wait returns a channel closed at the next change, or nil once closed.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done {
		return nil
	}
	return n.changed
}

func (n *notifier) subscribe() *Subscription {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := make(chan Update, 1)
	s := &Subscription{C: c, c: c, n: n}
	if n.done {
		close(c)
		return s
	}
	n.nextID++
	s.id = n.nextID
	n.subs[s.id] = c
	return s
}

func (n *notifier) unsubscribe(id uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.subs[id]; ok {
		delete(n.subs, id)
		close(c)
	}
}

func (n *notifier) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done {
		return
	}
	n.done = true
	close(n.changed)
	n.callWatchers()
	n.watchers = nil
	for id, c := range n.subs {
		delete(n.subs, id)
		close(c)
	}
}

// Subscribe returns a subscription to the book's updates. The current
// state is not sent; read it with Head.
func (b *Book) Subscribe() *Subscription { return b.notify.subscribe() }

// Wait blocks until the book's length is at least length, the context is
// done, or the book closes.
func (b *Book) Wait(ctx context.Context, length uint64) error {
	for {
		ch := b.notify.wait() // take the channel before reading the state
		if b.Length() >= length {
			return nil
		}
		if ch == nil {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
