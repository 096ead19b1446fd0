package peer

import (
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// The deterministic core of reading a task's logs, in the manner of etcd
// raft's RawNode: ingest and fold change a root's state from the pages
// read and return what the shell must do (effects), with no locks, I/O,
// clocks or callbacks. The shell (scanRoot) reads the pages from the
// books, holds Peer.mu around the core, and runs the effects: recording
// and introducing members, registering subtasks, waking subscribers.
// testdata/core is a datadriven script of it (TestCore).
//
// The other steps: compose (core_write.go), introduced and joining
// (core_intro.go), replay (core_replay.go); the state is core
// (core_state.go).

// ingest checks pages read from author's log from index l.next on, in
// order, advances l, and returns them decoded. A page whose clock does
// not follow the previous one is kept with errClock (and remembered in
// l.backwards), so that it shows as an error and never stops the log.
func ingest(r *root, author peer.ID, pages [][]byte) []decoded {
	l := r.log(author)
	out := make([]decoded, 0, len(pages))
	for _, page := range pages {
		i := l.next
		env, err := decode(author, i, page)
		d := decoded{env: env, err: err, key: cursorKey{Clock: l.lastClock, Author: author, Index: i}}
		if err == nil && env.Meta.Clock <= l.lastClock {
			d.env, d.err = nil, errClock
			if l.backwards == nil {
				l.backwards = map[uint64]bool{}
			}
			l.backwards[i] = true
		} else if err == nil {
			l.lastClock = env.Meta.Clock
			d.key.Clock = l.lastClock
		}
		l.next++
		out = append(out, d)
	}
	r.maxClock = max(r.maxClock, l.lastClock)
	return out
}

// fold applies decoded pages to r: joins and leaves, task updates, edits,
// deletes and reactions. It returns the effects for the shell.
func fold(r *root, fresh []decoded) []effect {
	var out []effect
	for _, d := range fresh {
		if d.env == nil {
			continue
		}
		switch d.env.Type {
		case pb.Type_TYPE_JOIN:
			var j pb.Join
			if proto.Unmarshal(d.env.Data, &j) == nil {
				delete(r.gone, peer.ID(j.PeerId))
				out = append(out, effect{learn: &j})
			}
		case pb.Type_TYPE_LEAVE:
			// Only a member can say it leaves.
			var j pb.Join
			if proto.Unmarshal(d.env.Data, &j) == nil && peer.ID(j.PeerId) == d.key.Author {
				r.gone[d.key.Author] = true
			}
		case pb.Type_TYPE_TASK_UPDATE:
			var u pb.TaskUpdate
			if proto.Unmarshal(d.env.Data, &u) == nil {
				if sub, ok := applyTask(r, &u, d.key); ok {
					out = append(out, effect{subtask: sub})
				}
			}
		case pb.Type_TYPE_EDIT, pb.Type_TYPE_DELETE, pb.Type_TYPE_REACTION:
			r.applied.add(d.key.Author, d.key, d.env)
		case pb.Type_TYPE_PROFILE:
			// A name spans every task the author shares with us.
			out = append(out, effect{renamed: d.key.Author, name: string(d.env.Data)})
		}
	}
	if len(fresh) > 0 {
		out = append(out, effect{fresh: true})
	}
	return out
}

// applyTask folds a task update read at k: the newest by (clock, author,
// index) wins. It reports a subtask seen for the first time.
func applyTask(r *root, u *pb.TaskUpdate, k cursorKey) (sub TaskID, isNew bool) {
	id, ok := taskOf(u.Task)
	if !ok {
		return TaskID{}, false
	}
	parent, _ := taskOf(u.Parent)
	if id != r.id && parent == (TaskID{}) {
		return TaskID{}, false // only the root itself may lack a parent
	}
	t := r.tasks[id]
	if t == nil {
		t = &Task{ID: id, Root: r.id, Parent: parent}
		r.tasks[id] = t
		isNew = id != r.id
	}
	if prev, ok := r.taskKeys[id]; !ok || !k.less(prev) {
		r.taskKeys[id] = k
		t.Title, t.Closed = u.Title, u.Closed
	}
	return id, isNew
}
