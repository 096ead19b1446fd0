package peer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestSubscriptionRepliesAcrossAuthors: three members reply to each other
// at once, each reply to the newest message it has of another author. A
// subscription reads only the logs that grew, so a reply that arrives
// before its target (another author's log) must wait for that log: every
// subscription delivers every message once, and a reply only after its
// target.
func TestSubscriptionRepliesAcrossAuthors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	bob, ana, task := startPair(t, ctx)
	carol := openPeer(t, t.TempDir(), "carol")
	mustJoin(t, ctx, ana, carol, task)
	peers := []*Peer{bob, ana, carol}
	waitConverged(t, peers, task, 3, 30*time.Second)

	const each = 40
	type got struct {
		heads []msgKey
		bad   []string
	}
	results := make([]chan got, len(peers))
	for i, p := range peers {
		sub, err := p.Subscribe(task)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		results[i] = make(chan got, 1)
		go func(c chan got) {
			var g got
			seen := map[msgKey]bool{}
			for len(g.heads) < each*len(peers) {
				m, ok := <-sub.C
				if !ok {
					break
				}
				if m.Ref != nil && !seen[msgKey{m.Ref.Author, m.Ref.Index}] {
					g.bad = append(g.bad, fmt.Sprintf("%s (reply to %s) before its target", m.Head, m.Ref))
				}
				k := msgKey{m.Head.Author, m.Head.Index}
				seen[k] = true
				g.heads = append(g.heads, k)
			}
			c <- g
		}(results[i])
	}
	// The first message of each author is a text; then each replies to
	// the newest message it holds of the next author.
	var wg sync.WaitGroup
	for _, p := range peers {
		mustSend(t, ctx, p, task, p.ID().ShortString()+" 0")
	}
	for _, p := range peers {
		waitTimeline(t, p, task, 3+len(peers), 30*time.Second)
	}
	errs := make(chan error, len(peers))
	for i, p := range peers {
		other := peers[(i+1)%len(peers)].ID()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 1; k < each; k++ {
				ms, err := p.Timeline(ctx, task, &TimelineOptions{Limit: 1000}) // the whole task
				if err != nil {
					errs <- err
					return
				}
				var to *Head
				for _, m := range ms {
					if m.Head.Author == other && m.Err == nil && m.Member == "" && m.Update == nil {
						h := m.Head
						to = &h
					}
				}
				if to == nil {
					errs <- fmt.Errorf("%s holds nothing of %s", p.ID().ShortString(), other.ShortString())
					return
				}
				if _, err := p.Reply(ctx, task, *to, fmt.Sprintf("%s %d", p.ID().ShortString(), k)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, p := range peers {
		var g got
		select {
		case g = <-results[i]:
		case <-ctx.Done():
			t.Fatalf("%s: subscription stalled", p.ID().ShortString())
		}
		for _, b := range g.bad {
			t.Errorf("%s: %s", p.ID().ShortString(), b)
		}
		once := map[msgKey]int{}
		for _, h := range g.heads {
			once[h]++
		}
		if len(once) != each*len(peers) || len(g.heads) != len(once) {
			t.Errorf("%s: %d deliveries of %d messages, want %d once each", p.ID().ShortString(), len(g.heads), len(once), each*len(peers))
		}
	}
}
