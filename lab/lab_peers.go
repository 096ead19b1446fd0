package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/demo"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// lab is N peers in one process, in one task.
type lab struct {
	ctx     context.Context
	root    string
	out     *labOutput
	timeout time.Duration
	task    peer.TaskID
	peers   []*labPeer // peer K is peers[K-1]
	failed  int        // commands that failed

	mu    sync.Mutex
	names map[libp2ppeer.ID]string // "peer K" by ID, for timelines
}

// labPeer is one peer of the lab; p is nil while it is stopped.
type labPeer struct {
	k    int
	name string
	dir  string
	id   libp2ppeer.ID
	p    *peer.Peer
	sub  *peer.Subscription
	done chan struct{} // closed when the delivery printer ends
}

func newLab(ctx context.Context, root string, out *labOutput, timeout time.Duration) *lab {
	return &lab{ctx: ctx, root: root, out: out, timeout: timeout, names: map[libp2ppeer.ID]string{}}
}

// setUp starts n peers; peer 1 creates the task and invites the others,
// who join one after the other.
func (l *lab) setUp(n int) error {
	for k := 1; k <= n; k++ {
		name := "peer" + strconv.Itoa(k)
		l.peers = append(l.peers, &labPeer{k: k, name: name, dir: filepath.Join(l.root, name)})
		if err := l.open(k); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.timeout)
	defer cancel()
	first := l.peers[0].p
	task, err := first.CreateTask(ctx, "lab", peer.TaskID{})
	if err != nil {
		return fmt.Errorf("peer 1 creates the task: %w", err)
	}
	l.task = task
	l.out.say("info", 1, "peer 1 created the task %s", task)
	for _, lp := range l.peers[1:] {
		code, err := first.Invite(ctx, task)
		if err != nil {
			return fmt.Errorf("peer 1 invites peer %d: %w", lp.k, err)
		}
		t0 := time.Now()
		if _, err := lp.p.Join(ctx, code); err != nil {
			return fmt.Errorf("peer %d joins: %w", lp.k, err)
		}
		l.out.say("info", lp.k, "peer %d joined through peer 1 in %v", lp.k, time.Since(t0).Round(time.Millisecond))
	}
	for k := range l.peers {
		if err := l.subscribe(k + 1); err != nil {
			return err
		}
	}
	return nil
}

// open opens peer k's vault (creating it the first time).
func (l *lab) open(k int) error {
	lp := l.peers[k-1]
	ctx, cancel := context.WithTimeout(l.ctx, l.timeout)
	defer cancel()
	p, err := peer.Open(ctx, lp.dir, &peer.Options{
		Vault: &vault.Options{Name: lp.name, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, DisableDHT: true, DisableMDNS: true},
		Retry: 200 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("open peer %d: %w", k, err)
	}
	lp.p, lp.id = p, p.ID()
	l.mu.Lock()
	l.names[lp.id] = "peer " + strconv.Itoa(k)
	l.mu.Unlock()
	l.out.say("started", k, "peer %d is running as %s", k, lp.id)
	return nil
}

// subscribe prints every message peer k receives from the others.
func (l *lab) subscribe(k int) error {
	lp := l.peers[k-1]
	sub, err := lp.p.Subscribe(l.task)
	if err != nil {
		return fmt.Errorf("peer %d subscribes: %w", k, err)
	}
	lp.sub, lp.done = sub, make(chan struct{})
	go func() {
		defer close(lp.done)
		for m := range sub.C {
			if m.Head.Author == lp.id {
				continue
			}
			l.mu.Lock()
			line := demo.RenderTimeline([]*peer.Message{m}, l.names)[0]
			l.mu.Unlock()
			l.out.say("received", k, "  peer %d got #%d from %s", k, m.Head.Index, line)
		}
	}()
	return nil
}

func (l *lab) stop(k int) error {
	lp := l.peers[k-1]
	if lp.p == nil {
		return fmt.Errorf("peer %d is already stopped", k)
	}
	lp.sub.Close()
	<-lp.done
	err := lp.p.Close()
	lp.p = nil
	if err != nil {
		return fmt.Errorf("stop peer %d: %w", k, err)
	}
	l.out.say("stopped", k, "peer %d stopped (its vault stays)", k)
	return nil
}

func (l *lab) start(k int) error {
	if l.peers[k-1].p != nil {
		return fmt.Errorf("peer %d is already running", k)
	}
	if err := l.open(k); err != nil {
		return err
	}
	return l.subscribe(k)
}

func (l *lab) send(k int, text string) error {
	lp := l.peers[k-1]
	if lp.p == nil {
		return fmt.Errorf("peer %d is stopped: start %d first", k, k)
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.timeout)
	defer cancel()
	h, err := lp.p.Send(ctx, l.task, text)
	if err != nil {
		return fmt.Errorf("peer %d sends: %w", k, err)
	}
	l.out.say("sent", k, "peer %d sent %q as #%d", k, text, h.Index)
	return nil
}

// view returns peer k's rendered timeline, or nil while it is stopped.
func (l *lab) view(k int) ([]string, error) {
	lp := l.peers[k-1]
	if lp.p == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.timeout)
	defer cancel()
	ms, err := lp.p.Timeline(ctx, l.task, &peer.TimelineOptions{Limit: 100000})
	if err != nil {
		return nil, fmt.Errorf("peer %d's timeline: %w", k, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return demo.RenderTimeline(ms, l.names), nil
}

// state prints each peer's state.
func (l *lab) state() {
	for _, lp := range l.peers {
		if lp.p == nil {
			l.out.say("state", lp.k, "peer %d  stopped", lp.k)
			continue
		}
		v, err := l.view(lp.k)
		if err != nil {
			l.failed++
			l.out.say("error", lp.k, "%v", err)
			continue
		}
		l.out.say("state", lp.k, "peer %d  running  timeline %d entries  books %s", lp.k, len(v), l.booksText(lp))
	}
}

// booksText lists the lengths of peer k's books of the task.
func (l *lab) booksText(lp *labPeer) string {
	books, err := lp.p.Books(l.task)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	titles := make([]string, 0, len(books))
	for t := range books {
		titles = append(titles, t)
	}
	slices.Sort(titles)
	var parts []string
	for _, t := range titles {
		b, err := lp.p.Vault().DB().OpenKey(l.ctx, books[t])
		if err != nil {
			continue
		}
		l.mu.Lock()
		label := demo.RenderTitle(t, l.names)
		l.mu.Unlock()
		parts = append(parts, fmt.Sprintf("%s: %d", strings.SplitN(label, " (", 2)[0], b.Length()))
	}
	return fmt.Sprintf("%d [%s]", len(books), strings.Join(parts, ", "))
}

func (l *lab) timeline(k int) error {
	v, err := l.view(k)
	if err != nil {
		return err
	}
	if l.peers[k-1].p == nil {
		return fmt.Errorf("peer %d is stopped", k)
	}
	l.out.say("timeline", k, "peer %d's timeline (%d entries):", k, len(v))
	for _, line := range v {
		l.out.say("timeline", k, "  %s", line)
	}
	return nil
}

// syncCmd waits until every running peer sees the same timeline.
func (l *lab) syncCmd(args []string) error {
	wait := l.timeout
	if len(args) > 1 {
		return fmt.Errorf("usage: sync [SECONDS]")
	}
	if len(args) == 1 {
		s, err := strconv.Atoi(args[0])
		if err != nil || s <= 0 {
			return fmt.Errorf("sync: %q is not a number of seconds", args[0])
		}
		wait = time.Duration(s) * time.Second
	}
	t0 := time.Now()
	for {
		views, running, err := l.views()
		if err != nil {
			return err
		}
		if len(running) > 0 && allEqual(views) {
			l.out.say("sync", 0, "converged: the %d running peers (%s) see the same %d timeline entries (after %v)",
				len(running), joinInts(running), len(views[0]), time.Since(t0).Round(time.Millisecond))
			return nil
		}
		if time.Since(t0) > wait || l.ctx.Err() != nil {
			var counts []string
			for i, v := range views {
				counts = append(counts, fmt.Sprintf("peer %d: %d", running[i], len(v)))
			}
			return fmt.Errorf("not converged after %v (timeline entries: %s)", wait, strings.Join(counts, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// views returns the timelines of the running peers and their numbers.
func (l *lab) views() ([][]string, []int, error) {
	var views [][]string
	var running []int
	for _, lp := range l.peers {
		if lp.p == nil {
			continue
		}
		v, err := l.view(lp.k)
		if err != nil {
			return nil, nil, err
		}
		views, running = append(views, v), append(running, lp.k)
	}
	return views, running, nil
}

func allEqual(views [][]string) bool {
	for _, v := range views[1:] {
		if !slices.Equal(v, views[0]) {
			return false
		}
	}
	return true
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// close stops every running peer.
func (l *lab) close() {
	for _, lp := range l.peers {
		if lp.p != nil {
			if lp.sub != nil {
				lp.sub.Close()
				<-lp.done
			}
			lp.p.Close()
			lp.p = nil
		}
	}
}
