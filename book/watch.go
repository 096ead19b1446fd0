package book

// Watch calls f after every change of the book's state (as a subscription
// would see it), after every change of the pages local readers wait for
// (Wants), and once when the book closes. It is for a component that
// watches many books from one goroutine, such as a replication session:
// f only notes that the book changed and wakes that goroutine, which then
// reads the book. f runs on the goroutine that made the change, with the
// book's notifier locked: it must be quick, must not block and must not
// call the book. After stop returns, f is not called again.
func (b *Book) Watch(f func()) (stop func()) {
	n := &b.notify
	n.mu.Lock()
	if n.done {
		n.mu.Unlock()
		f() // closed already: the one call a close makes
		return func() {}
	}
	if n.watchers == nil {
		n.watchers = make(map[uint64]func())
	}
	n.nextID++
	id := n.nextID
	n.watchers[id] = f
	n.mu.Unlock()
	return func() {
		n.mu.Lock()
		delete(n.watchers, id)
		n.mu.Unlock()
	}
}

// callWatchers calls every Watch function. Call with n.mu held.
func (n *notifier) callWatchers() {
	for _, f := range n.watchers {
		f()
	}
}

// poke tells the watchers of a change that is not a new state: the pages
// local readers wait for.
func (n *notifier) poke() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.done {
		n.callWatchers()
	}
}
