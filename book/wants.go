package book

import (
	"slices"
	"sync"
)

// wants tracks the pages local readers are waiting for (Get on a page not
// stored here), so replication can fetch exactly those: a sparse reader.
type wants struct {
	mu      sync.Mutex
	count   map[uint64]int // page → waiting Get calls
	changed chan struct{}  // closed and replaced on every change
}

func (w *wants) add(i uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.count == nil {
		w.count = make(map[uint64]int)
	}
	w.count[i]++
	w.signal()
}

func (w *wants) remove(i uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.count[i]--; w.count[i] <= 0 {
		delete(w.count, i)
		w.signal()
	}
}

func (w *wants) signal() {
	if w.changed != nil {
		close(w.changed)
		w.changed = nil
	}
}

// Wants returns the pages local readers wait for, in increasing order, and
// a channel closed at the next change of that set.
func (b *Book) Wants() ([]uint64, <-chan struct{}) {
	w := &b.wants
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.changed == nil {
		w.changed = make(chan struct{})
	}
	out := make([]uint64, 0, len(w.count))
	for i := range w.count {
		out = append(out, i)
	}
	slices.Sort(out)
	return out, w.changed
}
