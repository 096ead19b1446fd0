package book

import (
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// The nodes of the last small append, kept with the state it made. A
// replication session pushes each append to its followers at once
// (db's session_push.go), and the proof of a push from the old length
// to the new one needs only nodes the append had in hand: the old
// roots (the siblings the new pages hash up with) and the nodes over
// the new pages (the upgrade's link). Reading them back from Pebble
// cost a Get each (five or more per push, one per level the new pages
// join), a large part of the time from an append to its push. The
// lists are the append's own slices (nothing changes them after the
// commit) but for the leaves, copied: a single page's leaf lives in the
// prepared batch, which holds the caller's pages.
type recentNodes struct {
	lists [4][]Node // the old roots, the leaves, the parents inside the batch, the joins
}

// maxRecentPages bounds the appends that keep their nodes: a push
// carries at most 64 pages (db's maxPushPages), and a lookup scans the
// lists.
const maxRecentPages = 64

// An append kept is prepared as one chunk, the only kind whose inner
// parents prepared holds: this fails to compile if that stops holding.
const _ = uint(prepChunk - maxRecentPages)

// newRecent returns the nodes of an append of pr to old, joined by
// joins; nil for an append too large to keep.
func newRecent(old *Head, pr *prepared, joins []Node) *recentNodes {
	if len(pr.pages) > maxRecentPages {
		return nil
	}
	return &recentNodes{lists: [4][]Node{old.Roots, slices.Clone(pr.leaves), pr.parents, joins}}
}

// node returns node i: from the append's nodes when it is one of them,
// else from r. A nil r (no recent append) reads r alone.
func (rc *recentNodes) node(r pebble.Reader, k keys, i uint64) (Node, error) {
	if rc != nil {
		for _, l := range rc.lists {
			for _, n := range l {
				if n.Index == i {
					return n, nil
				}
			}
		}
	}
	return getNode(r, k, i)
}
