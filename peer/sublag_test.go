package peer

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// fullLag is the lag counted over every log of r, as it was before the
// subscription kept a count: the model the kept count must equal.
func fullLag(s *Subscription, r *root) int {
	behind := 0
	for a, l := range r.logs {
		if from := max(s.nextOf(a), s.live[a]); l.next > from {
			behind += int(l.next - from)
		}
	}
	return behind
}

// TestSubscriptionLagCount: the lag a subscription keeps, updated only
// for the logs the watcher read (lag) and those the subscription read
// (advance), equals the lag counted over every log, through random
// growth, reads, a replayed start and authors who join after it started.
func TestSubscriptionLagCount(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 13))
		authors := make([]peer.ID, 12)
		for i := range authors {
			authors[i] = peer.ID(fmt.Sprintf("author-%02d", i))
		}
		r := &root{logs: map[peer.ID]*logState{}}
		for _, a := range authors[:6] { // the others join later
			r.log(a).next = 1 + rng.Uint64N(20)
		}
		s := &Subscription{next: map[peer.ID]uint64{}, seen: map[peer.ID]uint64{}, live: map[peer.ID]uint64{}}
		for a, l := range r.logs {
			s.live[a] = l.next
			s.next[a] = 1 + rng.Uint64N(l.next) // SubscribeAfter: a position at or before the log's end
		}
		s.countAll(r)
		for step := range 400 {
			a := authors[rng.IntN(len(authors))]
			if rng.IntN(2) == 0 { // the watcher reads new pages of a
				r.log(a).next += 1 + rng.Uint64N(3)
				s.lag(r, []peer.ID{a})
			} else if l := r.logs[a]; l != nil && s.seen[a] > s.nextOf(a) { // s reads some of what it was offered
				s.advance(a, s.nextOf(a)+1+rng.Uint64N(s.seen[a]-s.nextOf(a)))
			}
			if got, want := s.lag(r, nil), fullLag(s, r); got != want {
				t.Fatalf("seed %d, step %d: kept lag %d, counted over every log %d", seed, step, got, want)
			}
		}
	}
}
