package peer

import (
	"fmt"
	"sort"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer/pb"
)

// outgoing is a message this peer is about to write. The wall-clock time
// comes from the shell (Options.Now): the core reads no clock.
type outgoing struct {
	typ    pb.Type
	data   []byte
	refs   []*pb.Ref
	timeMs int64
	idem   []byte
}

// compose is the core's step for writing: the envelope of o for task
// at index n of this peer's log (its length, which the shell knows from
// the books), after every message read so far: its clock is one more
// than the task's highest, and it links the newest message of every other
// author (causal order). The shell appends it to every book this peer
// writes for the task, as one batch; the core learns it by reading it
// back (ingest), like anyone else's.
func (c *core) compose(task TaskID, n uint64, o outgoing) (*pb.Envelope, *root, error) {
	r := c.roots[c.rootOf(task)]
	if r == nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrNoTask, task)
	}
	if r.gone[c.me] {
		return nil, nil, fmt.Errorf("%w: %s", ErrLeft, task)
	}
	refs := o.refs
	authors := make([]string, 0, len(r.logs))
	for a := range r.logs {
		authors = append(authors, string(a))
	}
	sort.Strings(authors)
	for _, a := range authors {
		if l := r.logs[peer.ID(a)]; peer.ID(a) != c.me && l.next > 1 {
			refs = append(refs, &pb.Ref{Kind: pb.RefKind_REF_SEEN, Head: &pb.Head{Author: []byte(a), Index: l.next - 1}})
		}
	}
	return &pb.Envelope{
		Head: &pb.Head{Author: []byte(c.me), Index: n},
		Refs: refs, Type: o.typ, Data: o.data,
		Meta: &pb.Meta{Time: o.timeMs, Clock: r.maxClock + 1, Task: task[:], Idempotency: o.idem},
	}, r, nil
}

// markRead is the step for reading task up to k (its newest message, which
// the shell found in the timeline): the root's read marker, for Unread,
// and its journal record.
func (c *core) markRead(task TaskID, k cursorKey) ([]effect, error) {
	id := c.rootOf(task)
	r := c.roots[id]
	if r == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoTask, task)
	}
	r.read = k
	return []effect{{record: &pb.Record{Body: &pb.Record_Read{Read: &pb.ReadMarker{
		Task: task[:], Clock: k.Clock, Author: []byte(k.Author), Index: k.Index,
	}}}}}, nil
}
