package db

import "sync"

// One wake path per session. Every channel's book calls the session's
// watch function (book.Watch) on a change, on the goroutine that made it:
// it marks the channel dirty and wakes the loop, at most once until the
// loop takes the dirty set. So a session costs no goroutine per book, the
// dirty set is bounded by the channels, and no change is missed: a change
// after the loop took the set marks the channel again and wakes it again.
type dirtySet struct {
	mu    sync.Mutex
	chans []*channel    // each at most once: see channel.dirty
	wake  chan struct{} // room for one wake-up
	marks uint64        // changes marked, for tests
}

func newDirtySet() *dirtySet { return &dirtySet{wake: make(chan struct{}, 1)} }

// mark notes that c's book changed and wakes the loop.
func (d *dirtySet) mark(c *channel) {
	d.mu.Lock()
	d.marks++
	if !c.dirty {
		c.dirty = true
		d.chans = append(d.chans, c)
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default: // a wake-up is pending: the loop takes c with it
	}
}

// take returns the channels marked since the last take, in order, and
// empties the set.
func (d *dirtySet) take() []*channel {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.chans
	d.chans = nil
	for _, c := range out {
		c.dirty = false
	}
	return out
}

// watch starts marking c dirty on every change of its book. The loop calls
// it before it first reads the book's state for c, so that no change in
// between is missed.
//
// A change made while this session stores a proof into the book (its own
// store, as a rule) does not wake the loop: the step that stored it reads
// the book afterwards and handles the change (applyOp), which saves a
// hand-off to the loop per stored proof. A change that sees applying just
// before it ends falls back to a wake: a change is never lost.
func (s *Session) watch(c *channel) {
	c.unwatch = c.b.Watch(func() {
		if c.applying.Load() {
			c.changed.Store(true)
			if c.applying.Load() {
				return // applyOp takes changed after applying ends
			}
		}
		s.dirty.mark(c)
	})
}

// onWake handles every channel whose book changed, one step each; an
// error ends the session (settle).
func (s *Session) onWake() error {
	for _, c := range s.dirty.take() {
		s.onLocalChange(c)
		if err := s.settle(nil); err != nil {
			return err
		}
	}
	return nil
}

// unwatchAll stops every channel's watch function; the loop calls it as
// the session ends.
func (s *Session) unwatchAll() {
	for _, c := range s.byKey {
		if c.unwatch != nil {
			c.unwatch()
		}
	}
}
