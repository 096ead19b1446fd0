package peer

import (
	"sync"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
)

// wakes says which tasks the watcher must read again: those with a book
// that grew since it last looked, so that a change in one book costs the
// work of its task only, whatever the number of tasks. It has its own
// lock, never Peer.mu: the DB reports appends on the appending goroutine,
// which may hold Peer.mu (journal records are appended under it).
type wakes struct {
	mu     sync.Mutex
	byBook map[string]TaskID // book label (book.Book.Name) → root task
	dirty  map[TaskID]bool
	all    bool // every task (after Open, or from a poke without a task)
	// waiting are the books with a missing page someone waits for.
	waiting map[*book.Book]bool
}

func newWakes() wakes {
	return wakes{byBook: map[string]TaskID{}, dirty: map[TaskID]bool{}, waiting: map[*book.Book]bool{}}
}

// watch makes b's growth wake the watcher for task.
func (p *Peer) watch(task TaskID, b *book.Book) {
	p.wakes.mu.Lock()
	p.wakes.byBook[b.Name()] = task
	p.wakes.mu.Unlock()
}

// onAppended is the DB's Appended callback: it marks the book's task, if
// any, and wakes the watcher. It must be quick and take no other lock.
func (p *Peer) onAppended(in book.AppendInfo) {
	p.wakes.mu.Lock()
	task, ok := p.wakes.byBook[in.Book]
	if ok {
		p.wakes.dirty[task] = true
	}
	p.wakes.mu.Unlock()
	if ok {
		p.kickWatcher()
	}
}

// awaitPage wakes the watcher for task once page i of b is stored. A
// book's head can arrive before its pages, and pages that arrive without
// a new head are not reported as appends: so while a page is missing (and
// only then) one goroutine per such book waits for it.
func (p *Peer) awaitPage(task TaskID, b *book.Book, i uint64) {
	p.wakes.mu.Lock()
	if p.wakes.waiting[b] {
		p.wakes.mu.Unlock()
		return
	}
	p.wakes.waiting[b] = true
	p.wakes.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_, err := b.Get(p.ctx, i, nil)
		p.wakes.mu.Lock()
		delete(p.wakes.waiting, b)
		p.wakes.mu.Unlock()
		if err == nil {
			p.pokeTask(task)
		}
	}()
}

// pokeTask wakes the watcher to read task's logs.
func (p *Peer) pokeTask(task TaskID) {
	p.wakes.mu.Lock()
	p.wakes.dirty[task] = true
	p.wakes.mu.Unlock()
	p.kickWatcher()
}

// poke wakes the watcher to read every task's logs.
func (p *Peer) poke() {
	p.wakes.mu.Lock()
	p.wakes.all = true
	p.wakes.mu.Unlock()
	p.kickWatcher()
}

func (p *Peer) kickWatcher() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// takeWakes returns, and forgets, what the watcher must read.
func (p *Peer) takeWakes() (all bool, tasks []TaskID) {
	p.wakes.mu.Lock()
	defer p.wakes.mu.Unlock()
	all = p.wakes.all
	for t := range p.wakes.dirty {
		tasks = append(tasks, t)
	}
	p.wakes.all, p.wakes.dirty = false, map[TaskID]bool{}
	return all, tasks
}

// dbOptions is o (nil: defaults) with the messenger's Appended callback
// added after the caller's own.
func (p *Peer) dbOptions(o *db.Options) *db.Options {
	r := db.Options{}
	if o != nil {
		r = *o
	}
	l := book.EventListener{}
	if r.EventListener != nil {
		l = *r.EventListener
	}
	theirs := l.Appended
	l.Appended = func(in book.AppendInfo) {
		if theirs != nil {
			theirs(in)
		}
		p.onAppended(in)
	}
	r.EventListener = &l
	return &r
}
