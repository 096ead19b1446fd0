package devtools

import (
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/book"
	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/vault"
)

// EventHub turns a live peer's listener callbacks into Events for
// `watch`: a daemon puts VaultListener and BookListener in the options it
// opens its vault with, and hands Subscribe to Env.Events. Publishing
// never blocks: a subscriber that falls behind by more than its buffer
// loses events (and the Detail of the next one it gets says how many).
type EventHub struct {
	mu   sync.Mutex
	subs map[*hubSub]struct{}
}

type hubSub struct {
	c       chan Event
	dropped int
}

// hubBuffer is how many events a subscriber may fall behind.
const hubBuffer = 256

// NewEventHub returns a hub with no subscribers.
func NewEventHub() *EventHub { return &EventHub{subs: map[*hubSub]struct{}{}} }

// Subscribe returns a channel of the events published from now on and a
// cancel function that ends the subscription and closes the channel. It
// has the signature of Env.Events.
func (h *EventHub) Subscribe() (<-chan Event, func()) {
	s := &hubSub{c: make(chan Event, hubBuffer)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return s.c, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
			close(s.c)
		})
	}
}

// Publish sends e to every subscriber (Time is set when zero).
func (h *EventHub) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		ev := e
		if s.dropped > 0 {
			ev.Detail = fmt.Sprintf("%s (%d earlier events dropped: the watcher fell behind)", ev.Detail, s.dropped)
		}
		select {
		case s.c <- ev:
			s.dropped = 0
		default:
			s.dropped++
		}
	}
}

// VaultListener reports handshakes, replication sessions, disconnections
// and background errors; then it calls next's callbacks (next may be nil).
func (h *EventHub) VaultListener(next *vault.EventListener) *vault.EventListener {
	if next == nil {
		next = &vault.EventListener{}
	}
	return &vault.EventListener{
		Handshaken: func(hs folioio.Handshake) {
			h.Publish(Event{Kind: "handshake", Peer: hs.Remote.String(),
				Detail: fmt.Sprintf("%d books shared, %d introduced, %d refused", len(hs.Shared), len(hs.Introduced), len(hs.Rejected))})
			if next.Handshaken != nil {
				next.Handshaken(hs)
			}
		},
		SessionStarted: func(remote libp2ppeer.ID) {
			h.Publish(Event{Kind: "session-start", Peer: remote.String()})
			if next.SessionStarted != nil {
				next.SessionStarted(remote)
			}
		},
		SessionClosed: func(remote libp2ppeer.ID, err error) {
			ev := Event{Kind: "session-end", Peer: remote.String()}
			if err != nil {
				ev.Detail = err.Error()
			}
			h.Publish(ev)
			if next.SessionClosed != nil {
				next.SessionClosed(remote, err)
			}
		},
		Disconnected: func(remote libp2ppeer.ID) {
			h.Publish(Event{Kind: "disconnect", Peer: remote.String()})
			if next.Disconnected != nil {
				next.Disconnected(remote)
			}
		},
		Error: func(err error) {
			h.Publish(Event{Kind: "peer-error", Detail: err.Error()})
			if next.Error != nil {
				next.Error(err)
			}
		},
	}
}

// BookListener reports rejected proofs, equivocations and corruption
// (Detail starts with the book's label: its name, or the start of its
// key), and calls next's callbacks (next may be nil). Appends are not
// published: watch subscribes to the books themselves. Put it in the
// DB's options (db.Options.EventListener).
func (h *EventHub) BookListener(next *book.EventListener) *book.EventListener {
	if next == nil {
		next = &book.EventListener{}
	}
	return &book.EventListener{
		Appended:  next.Appended, // watch follows appends through Book.Subscribe
		Truncated: next.Truncated,
		VerificationFailed: func(i book.VerifyFailure) {
			h.Publish(Event{Kind: "verify-failed", Detail: fmt.Sprintf("%s: %v", i.Book, i.Err)})
			if next.VerificationFailed != nil {
				next.VerificationFailed(i)
			}
		},
		Equivocation: func(i book.EquivocationInfo) {
			h.Publish(Event{Kind: "equivocation", Detail: fmt.Sprintf("%s: two signed heads at length %d (tree hashes %s…, %s…): frozen",
				i.Book, i.Stored.Length, hex.EncodeToString(i.Stored.TreeHash[:4]), hex.EncodeToString(i.Other.TreeHash[:4]))})
			if next.Equivocation != nil {
				next.Equivocation(i)
			}
		},
		Corruption: func(i book.CorruptionInfo) {
			h.Publish(Event{Kind: "corruption", Detail: fmt.Sprintf("%s: %v", i.Book, i.Err)})
			if next.Corruption != nil {
				next.Corruption(i)
			}
		},
	}
}
