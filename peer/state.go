package peer

import (
	"crypto/ed25519"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/folio-p2p/folio/book"
)

// Task is a task or subtask as this peer sees it.
type Task struct {
	ID      TaskID
	Root    TaskID // the task whose members and books it uses
	Parent  TaskID // zero for a root task
	Title   string
	Closed  bool
	Members []peer.ID // root tasks: every member, this peer included
}

// root is everything known of one root task: its subtasks, members, logs.
// Guarded by Peer.mu.
type root struct {
	id       TaskID
	tasks    map[TaskID]*Task
	taskKeys map[TaskID]cursorKey // the update each task's state comes from
	members  map[peer.ID]*member
	myBooks  map[peer.ID]*book.Book // this peer's book for each member
	outbox   [][]byte               // my envelopes written while alone (index i+1)
	logs     map[peer.ID]*logState  // per author, this peer included
	maxClock uint64
	read     cursorKey
	subs     map[*Subscription]struct{}
	applied  applied // edits, deletes and reactions read so far
	// gone are the members whose latest join or leave message was a
	// leave (this peer too: then it may no longer write to the task).
	gone map[peer.ID]bool
	// keys indexes this peer's recent idempotency keys (nil until the
	// first keyed write; guarded by Peer.sendMu).
	keys *keyIndex
}

// member is another member of a root task.
type member struct {
	id    peer.ID
	book  ed25519.PublicKey // their book for us; nil until introduced
	b     *book.Book        // that book, once opened (see memberBook)
	addrs []ma.Multiaddr
	// acked: they accepted our book for them (this process's lifetime,
	// or a handshake since that shares it).
	acked bool
	// restored: known from the journal, with our book for them made in
	// an earlier run, so they most likely hold it already: a handshake
	// that shares it acks it, and only the retry loop introduces it.
	restored    bool
	introducing bool
	lastTry     time.Time
	// awaited: an introducer named this member, so its own introduction
	// is expected; our first dial to it waits Options.AwaitGrace from
	// lastTry rather than Retry (see deferDial).
	awaited bool
	// since: when the retry loop first saw this member with no try yet
	// (lastTry zero); its first retry is due Retry after.
	since time.Time
}

// logState is how far the watcher has read one author's log.
type logState struct {
	next      uint64 // next index to read (page 0 is the Address)
	lastClock uint64
	backwards map[uint64]bool // pages refused for a clock not after lastClock
}

// cursorKey orders messages: (clock, author, index).
type cursorKey struct {
	Clock  uint64
	Author peer.ID
	Index  uint64
}

func (a cursorKey) less(b cursorKey) bool {
	if a.Clock != b.Clock {
		return a.Clock < b.Clock
	}
	if a.Author != b.Author {
		return a.Author < b.Author
	}
	return a.Index < b.Index
}

func (a cursorKey) zero() bool { return a.Clock == 0 && a.Author == "" && a.Index == 0 }

func newRoot(id TaskID) *root {
	return &root{
		id: id, tasks: map[TaskID]*Task{}, taskKeys: map[TaskID]cursorKey{}, members: map[peer.ID]*member{},
		myBooks: map[peer.ID]*book.Book{}, logs: map[peer.ID]*logState{},
		subs: map[*Subscription]struct{}{}, gone: map[peer.ID]bool{},
	}
}

func (r *root) log(a peer.ID) *logState {
	l := r.logs[a]
	if l == nil {
		l = &logState{next: 1}
		r.logs[a] = l
	}
	return l
}
