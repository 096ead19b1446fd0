package peer

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestItemHeap: pushItem and popItem give the items back in timeline
// order, oldest first with earlier and newest first with later, through
// random pushes and pops.
func TestItemHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		top  func(a, b heapItem) bool
		cmp  func(a, b Cursor) int
	}{
		{"earlier", earlier, compareCursor},
		{"later", later, func(a, b Cursor) int { return compareCursor(b, a) }},
	} {
		var h msgHeap
		var want []Cursor
		for round := 0; round < 2000; round++ {
			if len(h) == 0 || rng.IntN(3) > 0 {
				m := &Message{Clock: uint64(rng.IntN(50)), Head: Head{Author: peer.ID([]byte{byte(rng.IntN(4))}), Index: uint64(round)}}
				pushItem(&h, heapItem{m: m}, c.top)
				want = append(want, m.Key())
				continue
			}
			slices.SortFunc(want, c.cmp)
			got := popItem(&h, c.top).m.Key()
			if got != want[0] {
				t.Fatalf("%s: popped %v, want %v", c.name, got, want[0])
			}
			want = want[1:]
		}
		if len(h) != len(want) {
			t.Fatalf("%s: %d left, want %d", c.name, len(h), len(want))
		}
	}
}

func compareCursor(a, b Cursor) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}
