package peer

import (
	"bytes"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
)

// The core's record of the introductions still to make: the members that
// have not accepted our book for them. The retry loop (retry.go) visits
// these alone, so its work follows what is pending, not the number of
// tasks and members: once every member acked, it has nothing to visit
// and sleeps without a timer.

// newMember makes member id of r and counts it as not acked yet.
func (c *core) newMember(r *root, id peer.ID) *member {
	m := &member{id: id}
	r.members[id] = m
	c.unacked[m] = r
	c.grew = true
	return m
}

// ack records that m holds our book for it: no introduction is due any
// more, in this process's lifetime.
func (c *core) ack(m *member) {
	m.acked = true
	delete(c.unacked, m)
}

// pending is a member not acked yet, with its root.
type pending struct {
	r *root
	m *member
}

// pendingIntros returns the members not acked yet, ordered by task and
// peer (a step's effects follow it): O(pending), whatever the number of
// tasks and members.
func (c *core) pendingIntros() []pending {
	out := make([]pending, 0, len(c.unacked))
	for m, r := range c.unacked { // ack is the only place acked is set
		out = append(out, pending{r, m})
	}
	slices.SortFunc(out, func(a, b pending) int {
		if d := bytes.Compare(a.r.id[:], b.r.id[:]); d != 0 {
			return d
		}
		return bytes.Compare([]byte(a.m.id), []byte(b.m.id))
	})
	return out
}
