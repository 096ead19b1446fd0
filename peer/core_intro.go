package peer

import (
	"bytes"
	"crypto/ed25519"
	"maps"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/folio-p2p/folio/peer/pb"
)

// The core's steps for members: a join message read (learn), an
// introduction the gate let in (introduced), an invite used here
// (joining), the end of an introduction of ours (introduceDone) and a
// handshake that shared our books (handshaken).

// know records a member named by a join message or an introducer and
// returns it (nil: not a member to know, such as this peer).
func (c *core) know(r *root, j *pb.Join) (*member, []effect) {
	id, err := peer.IDFromBytes(j.PeerId)
	if err != nil || id == c.me {
		return nil, nil
	}
	var out []effect
	m := r.members[id]
	if m == nil {
		m = c.newMember(r, id)
		out = append(out, effect{task: r.id, admit: id},
			effect{record: &pb.Record{Body: &pb.Record_Member{Member: &pb.Member{Task: r.id[:], PeerId: j.PeerId, Addrs: j.Addrs}}}})
	}
	if addrs := decodeAddrs(j.Addrs); len(addrs) > 0 && len(m.addrs) == 0 {
		m.addrs = addrs
	}
	return m, out
}

// learn is the step for a member named by a join message: record it,
// and introduce our book to it, once per member peer after a restart.
func (c *core) learn(r *root, j *pb.Join) []effect {
	m, out := c.know(r, j)
	switch {
	case m == nil || m.acked:
	case m.restored && c.announced[m.id]:
		// After a restart every join is read again: introducing each
		// would be a handshake per task and member, each offering every
		// shared book. One introduction per member peer tells it our
		// addresses (moved, on its side, spreads them to every task);
		// the first handshake with it acks our books.
		out = append(out, effect{task: r.id, await: m.id})
	default:
		c.announced[m.id] = true
		out = append(out, effect{task: r.id, introduce: m.id})
	}
	return out
}

// settle is fold (core.go) with the effects the core can apply itself
// applied: a member learnt, a subtask routed. What is left is the shell's.
func (c *core) settle(r *root, fresh []decoded) []effect {
	var out []effect
	for _, e := range fold(r, fresh) {
		switch {
		case e.learn != nil:
			out = append(out, c.learn(r, e.learn)...)
		case e.subtask != TaskID{}:
			c.sub[e.subtask] = r.id
		case e.renamed != "":
			c.renamed(e.renamed, e.name)
		default:
			out = append(out, e)
		}
	}
	return out
}

// introduced is the step for an introduction the gate let in: remote's
// book for us in e.task, with the introducer's addresses, its view of
// the members (who introduce themselves next) and of the tasks.
func (c *core) introduced(e *introduced) []effect {
	r := c.rootFor(e.task)
	m := r.members[e.remote]
	if m == nil {
		m = c.newMember(r, e.remote)
	}
	// Lamport: what we write next orders after what the introducer had
	// read, so that an update we make before its pages arrive (a rename
	// right after joining) still orders after the task's creation.
	r.maxClock = max(r.maxClock, e.meta.Clock)
	var out []effect
	if e.invite {
		out = append(out, effect{task: e.task, welcome: e.remote})
	}
	// The introducer names its own listen addresses: they replace what we
	// recorded (a newcomer's, or a member's that moved since).
	for _, j := range e.meta.Members {
		if addrs := decodeAddrs(j.Addrs); peer.ID(j.PeerId) == e.remote && len(addrs) > 0 {
			out = append(out, c.moved(r, e.remote, m.addrs, addrs)...)
			m.addrs = addrs
		}
	}
	out = append(out, effect{share: &offered{remote: e.remote, key: e.key, old: m.book}})
	m.book = ed25519.PublicKey(e.key)
	out = append(out, effect{record: &pb.Record{Body: &pb.Record_Member{Member: &pb.Member{
		Task: e.task[:], PeerId: []byte(e.remote), Book: m.book, Addrs: encodeAddrs(m.addrs),
	}}}})
	for _, j := range e.meta.Members {
		o, eff := c.know(r, j)
		out = append(out, eff...)
		if o != nil && !o.acked {
			out = append(out, effect{task: e.task, await: o.id})
		}
	}
	for _, u := range e.meta.Tasks {
		if tid, ok := taskOf(u.Task); ok && r.tasks[tid] == nil {
			if sub, isNew := applyTask(r, u, cursorKey{}); isNew { // any message about it wins
				c.sub[sub] = r.id
			}
		}
	}
	if !m.acked && !e.invite {
		out = append(out, effect{task: e.task, introduce: e.remote})
	}
	return append(out, effect{task: e.task, poke: true})
}

// moved: remote, a member of r, introduced itself from new addresses.
// An address belongs to the peer, not to a task, so every other task
// that recorded the old ones gets the new ones too (a peer back from a
// restart introduces itself once, not once per task).
func (c *core) moved(r *root, remote peer.ID, old, addrs []ma.Multiaddr) []effect {
	if sameAddrs(old, addrs) {
		return nil
	}
	var out []effect
	for _, o := range c.roots {
		m := o.members[remote]
		if o == r || m == nil || !sameAddrs(m.addrs, old) {
			continue
		}
		m.addrs = addrs
		out = append(out, effect{record: &pb.Record{Body: &pb.Record_Member{Member: &pb.Member{
			Task: o.id[:], PeerId: []byte(remote), Book: m.book, Addrs: encodeAddrs(addrs),
		}}}})
	}
	return out
}

// joining is the step for using an invite: the inviter becomes a member
// of task, to be dialled at addrs (its book arrives by introduction).
func (c *core) joining(task TaskID, inviter peer.ID, addrs []ma.Multiaddr) (*member, []effect) {
	r := c.rootFor(task)
	m := r.members[inviter]
	if m == nil {
		m = c.newMember(r, inviter)
	}
	m.addrs = addrs
	return m, []effect{{task: task, admit: inviter},
		{record: &pb.Record{Body: &pb.Record_Member{Member: &pb.Member{Task: task[:], PeerId: []byte(inviter), Addrs: encodeAddrs(addrs)}}}}}
}

// introducing is the step for the start of an introduction of our book
// for m.
func (c *core) introducing(m *member) {
	m.introducing = true
	c.inflight[m.id]++
}

// introduceDone is the step for the end of an introduction of our book
// for m: ok says m kept it, and so heard our addresses (announced).
func (c *core) introduceDone(m *member, ok bool) {
	m.introducing = false
	if c.inflight[m.id]--; c.inflight[m.id] <= 0 {
		delete(c.inflight, m.id)
	}
	if ok {
		c.ack(m)
	}
	c.announced[m.id] = c.announced[m.id] || ok
}

// retry reports whether the retry loop should introduce our book for m
// again now (due: Options.Retry has passed since the last try). A
// restored member's peer gets one introduction at a time: once it took
// one, the connection's handshake acks the books of the other tasks
// (handshaken), so it is not introduced to each task's book in turn.
// (learn marks the peer announced when that first introduction starts,
// so the rule does not wait for announced.)
func (c *core) retry(r *root, m *member, due bool) bool {
	switch {
	case m.acked || !due || r.gone[m.id] || r.gone[c.me]:
		return false
	case m.restored && c.inflight[m.id] > 0:
		return false
	}
	return true
}

// handshaken is the step for a handshake with remote that shared the
// books whose keys are in shared: every member whose book from us is
// among them holds it, so no introduction is needed. O(books shared),
// through mine, whatever the number of tasks. Not before this
// process has introduced itself to remote once (learn): that
// introduction tells it our addresses, which may have changed.
func (c *core) handshaken(remote peer.ID, shared map[string]bool) {
	if !c.announced[remote] {
		return
	}
	for k := range shared {
		r := c.roots[c.mine[k]]
		if r == nil {
			continue
		}
		if b := r.myBooks[remote]; b != nil && string(b.Key()) == k {
			if m := r.members[remote]; m != nil {
				c.ack(m)
			}
		}
	}
}

// introMeta is what an introduction of our book for r carries: our
// addresses (addrs: the shell's listen addresses), every member with the
// addresses we know, every task's state and the highest clock read.
func (c *core) introMeta(r *root, addrs [][]byte) *pb.IntroMeta {
	meta := &pb.IntroMeta{Task: r.id[:], Clock: r.maxClock}
	meta.Members = append(meta.Members, &pb.Join{PeerId: []byte(c.me), Addrs: addrs})
	// In a stable order: a step's effects follow it.
	for _, id := range slices.Sorted(maps.Keys(r.members)) {
		o := r.members[id]
		meta.Members = append(meta.Members, &pb.Join{PeerId: []byte(o.id), Addrs: encodeAddrs(o.addrs)})
	}
	for _, id := range slices.SortedFunc(maps.Keys(r.tasks), func(a, b TaskID) int { return bytes.Compare(a[:], b[:]) }) {
		t := r.tasks[id]
		u := &pb.TaskUpdate{Task: t.ID[:], Title: t.Title, Closed: t.Closed}
		if t.Parent != (TaskID{}) {
			u.Parent = t.Parent[:]
		}
		meta.Tasks = append(meta.Tasks, u)
	}
	return meta
}
