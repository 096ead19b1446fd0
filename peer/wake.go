package peer

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
)

// wakes says which logs the watcher must read again: those of a book that
// grew since it last looked, so that a change in one book costs the work
// of that author's log in its task only, whatever the number of tasks
// and members. It has its own
// lock, never Peer.mu: the DB reports appends on the appending goroutine,
// which may hold Peer.mu (journal records are appended under it).
type wakes struct {
	mu     sync.Mutex
	byBook map[string]watched // book label (book.Book.Name) → its log
	dirty  map[TaskID]*changed
	all    bool // every task (after Open, or from a poke without a task)
	// waiting are the books with a missing page someone waits for.
	waiting map[*book.Book]bool
	// spare and free are what the watcher gave back (recycle): the other
	// dirty map, cleared, and changed values, so that a delivered message
	// allocates none of them.
	spare map[TaskID]*changed
	free  []*changed
}

// maxFree bounds the changed values kept for reuse.
const maxFree = 64

// watched is the log a book holds: its root task and author.
type watched struct {
	task   TaskID
	author peer.ID
}

// changed is what the watcher must read again in one task: every log
// (all), or the logs of some authors.
type changed struct {
	all     bool
	authors map[peer.ID]bool
}

// everything is a changed that names every log of a task.
var everything = &changed{all: true}

// only is a changed that names author a's log.
func only(a peer.ID) *changed { return &changed{authors: map[peer.ID]bool{a: true}} }

func (c *changed) add(a peer.ID) {
	if c.authors == nil {
		c.authors = map[peer.ID]bool{}
	}
	c.authors[a] = true
}

func newWakes() wakes {
	return wakes{byBook: map[string]watched{}, dirty: map[TaskID]*changed{}, waiting: map[*book.Book]bool{}}
}

// watch makes b's growth wake the watcher for author's log in task.
func (p *Peer) watch(task TaskID, author peer.ID, b *book.Book) {
	p.wakes.mu.Lock()
	p.wakes.byBook[b.Name()] = watched{task: task, author: author}
	p.wakes.mu.Unlock()
}

// mark notes that author's log in task grew. Call with wakes.mu held.
func (w *wakes) mark(task TaskID, author peer.ID) {
	c := w.dirty[task]
	if c == nil {
		if n := len(w.free); n > 0 {
			c, w.free = w.free[n-1], w.free[:n-1]
		} else {
			c = &changed{}
		}
		w.dirty[task] = c
	}
	if !c.all {
		c.add(author)
	}
}

// onAppended is the DB's Appended callback: it marks the book's log, if
// it is one, and wakes the watcher. It must be quick and take no other
// lock.
func (p *Peer) onAppended(in book.AppendInfo) {
	p.wakes.mu.Lock()
	w, ok := p.wakes.byBook[in.Book]
	if ok {
		p.wakes.mark(w.task, w.author)
	}
	p.wakes.mu.Unlock()
	if ok {
		p.kickWatcher()
	}
}

// awaitPage wakes the watcher for author's log in task once page i of b
// is stored. A book's head can arrive before its pages, and pages that
// arrive without a new head are not reported as appends: so while a page
// is missing (and only then) one goroutine per such book waits for it.
func (p *Peer) awaitPage(task TaskID, author peer.ID, b *book.Book, i uint64) {
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
		if err == nil {
			p.wakes.mark(task, author)
		}
		p.wakes.mu.Unlock()
		if err == nil {
			p.kickWatcher()
		}
	}()
}

// pokeTask wakes the watcher to read every log of task (and open the
// books of members introduced since).
func (p *Peer) pokeTask(task TaskID) {
	p.wakes.mu.Lock()
	p.wakes.dirty[task] = everything
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
func (p *Peer) takeWakes() (all bool, tasks map[TaskID]*changed) {
	p.wakes.mu.Lock()
	defer p.wakes.mu.Unlock()
	all, tasks = p.wakes.all, p.wakes.dirty
	p.wakes.all, p.wakes.dirty, p.wakes.spare = false, p.wakes.spare, nil
	if p.wakes.dirty == nil {
		p.wakes.dirty = map[TaskID]*changed{}
	}
	return all, tasks
}

// recycle gives back what takeWakes returned, once the watcher is done
// with it.
func (p *Peer) recycle(tasks map[TaskID]*changed) {
	p.wakes.mu.Lock()
	defer p.wakes.mu.Unlock()
	for _, c := range tasks {
		if c != everything && len(p.wakes.free) < maxFree {
			clear(c.authors)
			c.all = false
			p.wakes.free = append(p.wakes.free, c)
		}
	}
	if p.wakes.spare == nil {
		clear(tasks)
		p.wakes.spare = tasks
	}
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
