package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/internal/safeterm"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// runLog tells the person running `folio run` what they want to know:
// peers met and lost, messages arriving, and when catching up with a
// peer just met is done (meetings decides which is which). Vault
// callbacks only queue events (they must be quick); one goroutine
// writes.
type runLog struct {
	w      io.Writer
	events chan runEvent
	mu     sync.Mutex
	p      *peer.Peer
}

type runEvent struct {
	met, lost libp2ppeer.ID
}

// catchUpQuiet is how long a peer just met must stay quiet for the
// catch-up with it to count as done.
const catchUpQuiet = 2 * time.Second

// taskPoll is how often the log looks for tasks to follow.
const taskPoll = time.Second

func newRunLog(w io.Writer) *runLog { return &runLog{w: w, events: make(chan runEvent, 64)} }

// listener hears the vault's sessions; events beyond the queue are
// dropped rather than slowing the vault.
func (l *runLog) listener() *vault.EventListener {
	put := func(e runEvent) {
		select {
		case l.events <- e:
		default:
		}
	}
	return &vault.EventListener{
		SessionStarted: func(remote libp2ppeer.ID) { put(runEvent{met: remote}) },
		Disconnected:   func(remote libp2ppeer.ID) { put(runEvent{lost: remote}) },
	}
}

func (l *runLog) say(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %s\n", time.Now().Format("15:04:05"), safeterm.Printable(fmt.Sprintf(format, args...)))
}

func (l *runLog) who(ctx context.Context, id libp2ppeer.ID) string {
	if n := l.p.Name(ctx, id); n != "" {
		return n + " (" + shortPeer(id.String()) + ")"
	}
	return shortPeer(id.String())
}

// run writes the log until ctx ends.
func (l *runLog) run(ctx context.Context, p *peer.Peer) {
	l.p = p
	ms := newMeetings(time.Now(), catchUpQuiet)
	msgs := make(chan *peer.Message, 64)
	go l.follow(ctx, p, msgs)
	tick := time.NewTicker(catchUpQuiet / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-l.events:
			switch {
			case e.met != "":
				if ms.met(e.met, time.Now()) {
					l.say("met %s: catching up", l.who(ctx, e.met))
				}
			case e.lost != "":
				ms.lost(e.lost)
				l.say("lost %s", l.who(ctx, e.lost))
			}
		case m := <-msgs:
			if ms.news(m.Head.Author, m.Time, time.Now()) {
				l.say("new message from %s in %s", l.who(ctx, m.Head.Author), l.title(m.Task))
			}
		case now := <-tick.C:
			for id, n := range ms.caughtUp(now) {
				l.say("caught up with %s: %d new messages", l.who(ctx, id), n)
			}
		}
	}
}

func (l *runLog) title(id peer.TaskID) string {
	if t, err := l.p.Task(id); err == nil {
		return fmt.Sprintf("%q", t.Title)
	}
	return id.String()[:8]
}

// follow subscribes to every root task (new ones as they appear) and
// sends others' messages to out. A task that appears later is followed
// from its start, so what arrived before the next poll is not missed.
func (l *runLog) follow(ctx context.Context, p *peer.Peer, out chan<- *peer.Message) {
	followed := map[peer.TaskID]bool{}
	var from peer.Progress // nil: live, for the tasks there at the start
	for {
		for _, t := range p.Tasks() {
			if t.Root != t.ID || followed[t.ID] {
				continue
			}
			followed[t.ID] = true
			go l.followTask(ctx, p, t.ID, from, out)
		}
		from = peer.Progress{}
		select {
		case <-ctx.Done():
			return
		case <-time.After(taskPoll):
		}
	}
}

// followTask sends others' messages of task to out, first those after
// from (nil: none), until ctx ends; a subscription that lagged behind is
// started again (the log skips what it missed).
func (l *runLog) followTask(ctx context.Context, p *peer.Peer, task peer.TaskID, from peer.Progress, out chan<- *peer.Message) {
	for ctx.Err() == nil {
		sub, err := p.SubscribeAfter(task, from)
		from = nil
		if err != nil {
			return
		}
		l.drain(ctx, p, sub, out)
		sub.Close()
		select { // not a busy loop if the peer ends subscriptions at once
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (l *runLog) drain(ctx context.Context, p *peer.Peer, sub *peer.Subscription, out chan<- *peer.Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-sub.C:
			if !ok {
				return
			}
			if m.Head.Author == p.ID() || m.Err != nil {
				continue
			}
			select {
			case out <- m:
			case <-ctx.Done():
				return
			}
		}
	}
}
