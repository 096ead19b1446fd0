package peer

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// dialCount counts the connections a host opens (outbound) and accepts.
type dialCount struct{ out, in atomic.Int64 }

// notifiee returns libp2p's NotifyBundle counting into d.
func (d *dialCount) notifiee() network.Notifiee {
	return &network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		if c.Stat().Direction == network.DirOutbound {
			d.out.Add(1)
		} else {
			d.in.Add(1)
		}
	}}
}

// TestGroupFormsWithOneConnectionPerPair: five peers join one task one
// after another; a newcomer waits for the members already there to
// introduce themselves (they read the join message naming it) instead
// of dialing them too, so no pair ever dials each other at once: exactly
// one connection per pair is ever opened. Retry is long enough that the
// retry loop, which would dial a member that stays silent, never runs
// during the test.
func TestGroupFormsWithOneConnectionPerPair(t *testing.T) {
	formCountingDials(t, 5, func(o *Options) { o.Retry = 10 * time.Second })
}

// TestGroupFormsWithOneConnectionPerPairShortRetry: the same with a
// Retry shorter than members take to dial a newcomer on a loaded
// machine (the benchmark's is 200 ms): the newcomer's grace for the
// members it awaits (AwaitGrace), not Retry, keeps it from dialing them
// too. With the grace equal to Retry (as before AwaitGrace) this opened
// duplicates.
func TestGroupFormsWithOneConnectionPerPairShortRetry(t *testing.T) {
	formCountingDials(t, 5, func(o *Options) {
		o.Retry = 20 * time.Millisecond
		o.AwaitGrace = 20 * time.Second
	})
}

// formCountingDials forms a group of n peers (each joining through the
// first) with options set by opt, and fails unless exactly one
// connection per pair was dialed.
func formCountingDials(t *testing.T, n int, opt func(*Options)) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ps, counts := openCounted(t, ctx, n, func(_ int, o *Options) { opt(o) })
	task := mustCreate(t, ctx, ps[0], "group")
	for _, p := range ps[1:] {
		mustJoin(t, ctx, ps[0], p, task)
	}
	want := 2 * (n - 1)
	for _, p := range ps {
		for {
			bs, err := p.Books(task)
			if err != nil {
				t.Fatal(err)
			}
			if len(bs) >= want {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s holds %d books, want %d", p.ID().ShortString(), len(bs), want)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	var opened int64
	for _, c := range counts {
		opened += c.out.Load()
	}
	if pairs := int64(n * (n - 1) / 2); opened != pairs {
		for i, c := range counts {
			t.Logf("m%d: dialed %d, accepted %d", i, c.out.Load(), c.in.Load())
		}
		t.Fatalf("%d connections dialed for %d pairs", opened, pairs)
	}
}

// openCounted opens n peers m0…m(n−1), with options set by opt, each
// counting the connections its host dials and accepts.
func openCounted(t *testing.T, ctx context.Context, n int, opt func(i int, o *Options)) ([]*Peer, []*dialCount) {
	t.Helper()
	ps := make([]*Peer, n)
	counts := make([]*dialCount, n)
	for i := range ps {
		o := testOptions(fmt.Sprintf("m%d", i))
		opt(i, o)
		p, err := Open(ctx, t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		ps[i], counts[i] = p, &dialCount{}
		p.Vault().Host().Network().Notify(counts[i].notifiee())
	}
	return ps, counts
}
