package peer

import (
	"crypto/ed25519"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/book"

	"github.com/folio-p2p/folio/peer/pb"
)

// core is the messenger's state and the deterministic steps that change
// it (core*.go): each step takes an event — pages read from a log, a
// message to write, an introduction let in, a journal record replayed —
// and returns the effects the shell must carry out: journal records,
// the gate's updates, books to write or open, introductions. No step
// locks, does I/O, reads a clock or calls back; the shell (Peer) holds
// Peer.mu around a step and runs its effects, and testdata/core drives
// the steps without any of that (TestCore).
type core struct {
	me    peer.ID
	roots map[TaskID]*root
	sub   map[TaskID]TaskID // subtask → root
	// announced: the members (across tasks) this process introduced
	// itself to since it started, so that after a restart each hears our
	// addresses once, not once per task.
	announced map[peer.ID]bool
	// mine maps each book of ours (by key) to its root task, so that a
	// handshake's acks touch the tasks of the books it shared, not all.
	mine map[string]TaskID
	// names: each author's name, from its latest profile message read
	// (or, until one is, the Address page of its book: Name).
	names map[peer.ID]string
	// invites: the ID of each invite made here, by its secret (a code
	// names its invite by the secret alone).
	invites map[string][]byte
	// inflight: per member peer, our introductions under way.
	inflight map[peer.ID]int
	// unacked: every member that has not accepted our book for it yet,
	// with its root: the retry loop's work (core_pending.go). A member
	// enters it when it is made (newMember) and leaves it once acked,
	// which is for good (acked never goes back to false).
	unacked map[*member]*root
	// grew: a member was made since the shell last looked (see
	// Peer.run): the retry loop must learn when it is due.
	grew bool
}

func newCore(me peer.ID) core {
	return core{me: me, roots: map[TaskID]*root{}, sub: map[TaskID]TaskID{}, announced: map[peer.ID]bool{}, mine: map[string]TaskID{}, names: map[peer.ID]string{}, invites: map[string][]byte{}, inflight: map[peer.ID]int{}, unacked: map[*member]*root{}}
}

// opened is the step for a book of ours for reader in r, opened or made
// by the shell.
func (c *core) opened(r *root, reader peer.ID, b *book.Book) {
	r.myBooks[reader] = b
	c.mine[string(b.Key())] = r.id
}

// rootFor returns the root task id, creating its state.
func (c *core) rootFor(id TaskID) *root {
	r := c.roots[id]
	if r == nil {
		r = newRoot(id)
		c.roots[id] = r
	}
	return r
}

// rootOf maps a (sub)task to its root.
func (c *core) rootOf(id TaskID) TaskID {
	if r, ok := c.sub[id]; ok {
		return r
	}
	return id
}

// effect is one thing the shell must do after a step. One field is set
// (task goes with the fields that need it).
type effect struct {
	learn   *pb.Join // a member named by a join message: record it, introduce our book
	subtask TaskID   // a subtask first seen: route its ID to this root
	fresh   bool     // new messages for the task's subscribers
	renamed peer.ID  // an author's new name (name), for every task
	name    string

	task      TaskID
	record    *pb.Record // append to the journal (through its queue)
	admit     peer.ID    // the gate: this peer is a member of task
	share     *offered   // the gate: a book to offer a peer
	invite    *invite    // the gate: an invite to check tokens against
	welcome   peer.ID    // a newcomer let in by an invite: write our book for it, announce it, introduce
	introduce peer.ID    // introduce our book for task to this member (unless it holds it)
	await     peer.ID    // a member an introducer named: it introduces itself; retry later if not
	reopen    peer.ID    // a member from the journal: open our book for it, if one was made
	used      []byte     // the gate: an invite (by ID) was used
	revoked   []byte     // the gate: an invite (by ID) was revoked
	poke      bool       // read task's logs again
}

// offered is a book the gate offers remote (old: the one it replaces).
type offered struct {
	remote   peer.ID
	key, old ed25519.PublicKey
}
