package devtools

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// watchRescan is how often watch looks for books created since it began
// (when it watches every book).
const watchRescan = time.Second

func (in *inspector) watch(args []string) int {
	fs := in.flags("A live tail of a running peer: appends to BOOKs (default: every book,\nnew ones included), replication sessions starting and ending, handshakes,\nverification failures and disconnections. One line per event; with --json\none JSON object per line. Runs until interrupted, or --count events.")
	count := fs.Int("count", 0, "stop after this many events (0: until interrupted)")
	names, ok, code := in.parse(fs, args, 0, -1)
	if !ok {
		return code
	}
	if !in.live() || in.env.Events == nil {
		return in.fail("watch needs a running peer: start folio run")
	}
	w := &watcher{in: in, out: make(chan Event, 64), done: make(chan struct{}), subs: map[string]func(){}, labels: map[string]string{}}
	defer w.stop()
	for _, n := range names {
		e, code := in.openBook(n)
		if e == nil {
			return code
		}
		w.add(e)
	}
	all := len(names) == 0
	w.all = all
	if all {
		if err := w.scan(); err != nil {
			return in.fail("%v", err)
		}
	}
	events, cancel := in.env.Events()
	defer cancel()
	if !in.json {
		in.printf("watching %d books and the peer's events (interrupt to stop)\n", len(w.subs))
	}
	tick := time.NewTicker(watchRescan)
	defer tick.Stop()
	for seen := 0; *count == 0 || seen < *count; {
		var ev Event
		select {
		case <-in.ctx.Done():
			return 0
		case <-tick.C:
			if all {
				_ = w.scan()
			}
			continue
		case e, open := <-events:
			if !open {
				in.printf("the peer's event stream ended\n")
				return 0
			}
			if !w.wants(e) {
				continue
			}
			ev = e
		case ev = <-w.out:
		}
		w.print(ev)
		seen++
	}
	return 0
}

// watcher subscribes to books and merges their updates into out.
type watcher struct {
	in     *inspector
	out    chan Event
	done   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	subs   map[string]func() // by hex key: ends the subscription
	labels map[string]string // by hex key
	all    bool              // every book is watched (none named)
}

// scan subscribes to the catalogue's books not watched yet.
func (w *watcher) scan() error {
	all, err := w.in.catalogue()
	if err != nil {
		return err
	}
	for _, e := range all {
		if e.b != nil {
			w.add(e)
		}
	}
	return nil
}

// add subscribes to e's updates (once).
func (w *watcher) add(e *bookEntry) {
	key := hex.EncodeToString(e.info.Key)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.subs[key]; ok {
		return
	}
	sub := e.b.Subscribe()
	w.subs[key], w.labels[key] = sub.Close, e.label()
	last, fork := e.b.Length(), e.b.Fork()
	w.wg.Go(func() {
		for u := range sub.C {
			ev := Event{Time: time.Now(), Kind: "append", Book: key}
			switch {
			case u.Fork != fork:
				ev.Kind, ev.Detail = "truncate", fmt.Sprintf("fork %d → %d, length %d", fork, u.Fork, u.Length)
			case u.Length == last:
				ev.Detail = fmt.Sprintf("length %d (pages stored, length unchanged)", u.Length)
			default:
				ev.Detail = fmt.Sprintf("length %d → %d, %d bytes", last, u.Length, u.ByteLength)
			}
			last, fork = u.Length, u.Fork
			select {
			case w.out <- ev:
			case <-w.done:
				return
			}
		}
	})
}

// wants filters the peer's events. Appends and truncations are left to
// the books' own subscriptions, which see every change of the books
// watched and name them; with books named, only their events and those
// of no book (handshakes, sessions) are kept.
func (w *watcher) wants(e Event) bool {
	if e.Kind == "append" || e.Kind == "truncate" {
		return false
	}
	if e.Book == "" || w.all {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, watched := w.subs[e.Book]
	return watched
}

func (w *watcher) print(e Event) {
	if w.in.json {
		b, _ := json.Marshal(e)
		w.in.printf("%s\n", b)
		return
	}
	line := e.Time.Format("15:04:05.000") + fmt.Sprintf("  %-13s", e.Kind)
	if e.Peer != "" {
		line += "  peer " + e.Peer
	}
	if e.Book != "" {
		w.mu.Lock()
		label := w.labels[e.Book]
		w.mu.Unlock()
		if label == "" && len(e.Book) >= 16 {
			label = "(key " + e.Book[:16] + ")"
		}
		line += "  " + label
	}
	if e.Detail != "" {
		line += "  " + e.Detail
	}
	w.in.printf("%s\n", line)
}

// stop ends every subscription and waits for their goroutines.
func (w *watcher) stop() {
	close(w.done)
	w.mu.Lock()
	for _, c := range w.subs {
		c()
	}
	w.mu.Unlock()
	w.wg.Wait()
}
