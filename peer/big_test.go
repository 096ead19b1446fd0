package peer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestTwoVaultsThousandMessages: two peers send 1,000 messages each at the
// same time; both end with the same timeline holding every message once,
// and every pair book audits clean on both sides.
func TestTwoVaultsThousandMessages(t *testing.T) {
	const n = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	bob, ana, task := startPair(t, ctx)
	// Live subscriptions on both sides see each message once.
	type delivery struct {
		head  Head
		text  string
		clock uint64
	}
	got := map[*Peer]chan []delivery{}
	var wg sync.WaitGroup
	for _, p := range []*Peer{bob, ana} {
		sub, err := p.Subscribe(task)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		c := make(chan []delivery, 1)
		got[p] = c
		go func() {
			var ds []delivery
			for len(ds) < 2*n {
				m, ok := <-sub.C
				if !ok {
					break
				}
				ds = append(ds, delivery{m.Head, m.Text, m.Clock})
			}
			c <- ds
		}()
	}
	errs := make(chan error, 2)
	names := map[*Peer]string{bob: "bob", ana: "ana"}
	for _, p := range []*Peer{bob, ana} {
		wg.Add(1)
		go func(p *Peer, name string) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				if _, err := p.Send(ctx, task, fmt.Sprintf("%s %d", name, i)); err != nil {
					errs <- fmt.Errorf("%s send %d: %w", name, i, err)
					return
				}
			}
		}(p, names[p])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// task update + ana's join + 2n messages
	want := 2 + 2*n
	waitTimeline(t, ana, task, want, 90*time.Second)
	waitTimeline(t, bob, task, want, 90*time.Second)
	final := waitConverged(t, []*Peer{bob, ana}, task, want, 30*time.Second)
	var sent []string
	for _, p := range []*Peer{bob, ana} {
		for i := 0; i < n; i++ {
			sent = append(sent, fmt.Sprintf("%s %d", names[p], i))
		}
	}
	checkExactlyOnce(t, "both", final, sent)
	// Each author's messages keep their order.
	next := map[string]int{}
	for _, m := range final {
		var name string
		var i int
		if _, err := fmt.Sscanf(m.Text, "%s %d", &name, &i); err != nil || m.Update != nil || m.Member != "" {
			continue
		}
		if i != next[name] {
			t.Fatalf("%s's message %d comes where %d should", name, i, next[name])
		}
		next[name]++
	}
	if next["bob"] != n || next["ana"] != n {
		t.Fatalf("in order: %v, want %d each", next, n)
	}
	for _, p := range []*Peer{bob, ana} {
		var ds []delivery
		select {
		case ds = <-got[p]:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: subscription stalled", names[p])
		}
		seen := map[msgKey]int{}
		for _, d := range ds {
			seen[msgKey{d.head.Author, d.head.Index}]++
		}
		for k, c := range seen {
			if c != 1 {
				t.Errorf("%s: subscription delivered %s/%d %d times", names[p], k.author.ShortString(), k.index, c)
			}
		}
		if len(seen) != 2*n {
			t.Errorf("%s: subscription delivered %d messages, want %d", names[p], len(seen), 2*n)
		}
	}
	for _, p := range []*Peer{bob, ana} {
		if books := auditBooks(t, ctx, p, task); len(books) != 2 {
			t.Errorf("%s holds %d books, want 2", p.ID().ShortString(), len(books))
		}
	}
}
