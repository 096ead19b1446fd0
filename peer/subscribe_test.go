package peer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
)

// drain reads n messages of s (failing after timeout), adding each to pr.
func drain(t *testing.T, s *Subscription, n int, pr Progress) []Head {
	t.Helper()
	var got []Head
	timeout := time.After(60 * time.Second)
	for len(got) < n {
		select {
		case m, ok := <-s.C:
			if !ok {
				t.Fatalf("subscription ended after %d of %d messages: %v", len(got), n, s.Err())
			}
			got = append(got, m.Head)
			pr.Add(m.Head)
		case <-timeout:
			t.Fatalf("subscription gave %d of %d messages", len(got), n)
		}
	}
	return got
}

func heads(hs []Head) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

// TestSubscriptionLagged: a subscriber that never reads does not hold up
// the writer or another subscriber; once it is more than MaxLag behind it
// ends with ErrLagged, having queued at most subQueue messages; resuming
// from what it received gives the rest exactly once, in order, then live.
func TestSubscriptionLagged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	o := testOptions("bob")
	o.MaxLag = 200
	p := reopen(t, t.TempDir(), o)
	task := mustCreate(t, ctx, p, "flood")
	stalled, err := p.Subscribe(task)
	if err != nil {
		t.Fatal(err)
	}
	healthy, err := p.Subscribe(task)
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	done := make(chan []Head, 1)
	go func() {
		var got []Head
		for m := range healthy.C {
			if got = append(got, m.Head); len(got) == n {
				break
			}
		}
		done <- got
	}()
	var sent []Head
	for i := range n {
		sent = append(sent, mustSend(t, ctx, p, task, fmt.Sprintf("m-%03d", i)))
	}
	select {
	case got := <-done:
		if !slices.Equal(heads(got), heads(sent)) {
			t.Fatalf("the healthy subscriber got %d messages, not every one sent in order", len(got))
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the healthy subscriber did not get every message")
	}

	// The stalled subscriber ended: what it still hands over is what its
	// queue held, then C closes with ErrLagged.
	pr := stalled.Start()
	var first []Head
	for m := range stalled.C {
		first = append(first, m.Head)
		pr.Add(m.Head)
	}
	if !errors.Is(stalled.Err(), ErrLagged) {
		t.Fatalf("the stalled subscription ended with %v, want ErrLagged", stalled.Err())
	}
	if len(first) > subQueue || !slices.Equal(heads(first), heads(sent[:len(first)])) {
		t.Fatalf("the stalled subscriber got %d messages after lagging, want at most %d, the first sent", len(first), subQueue)
	}
	p.mu.Lock()
	left := len(p.roots[task].subs)
	p.mu.Unlock()
	if left != 1 {
		t.Errorf("%d subscriptions still registered, want 1 (the lagged one is gone)", left)
	}

	// Resume from its position (through its text form): the rest once,
	// in order, then live.
	again, err := ParseProgress(pr.String())
	if err != nil || !maps.Equal(again, pr) {
		t.Fatalf("ParseProgress(%q) = %v, %v; want %v", pr.String(), again, err, pr)
	}
	res, err := p.SubscribeAfter(task, again)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	live := mustSend(t, ctx, p, task, "live")
	want := append(slices.Clone(sent[len(first):]), live)
	got := drain(t, res, len(want), Progress{})
	if !slices.Equal(heads(got), heads(want)) {
		t.Fatalf("resumed subscriber got %d messages, want the %d missed then the live one, in order", len(got), len(want))
	}
	select {
	case m := <-res.C:
		t.Fatalf("an extra message after the live one: %s", m.Head)
	case <-time.After(200 * time.Millisecond):
	}

	healthy.Close()
	if err := healthy.Err(); err != nil {
		t.Errorf("Err after Close = %v, want nil", err)
	}
	p.Close()
	if _, ok := <-res.C; ok || !errors.Is(res.Err(), ErrClosed) {
		t.Errorf("after the peer closed: C open %v, Err %v; want closed, ErrClosed", ok, res.Err())
	}
}

// TestSubscribeAfterTwoAuthors: a subscriber that stopped resumes with
// both authors' messages it missed, each once and in each author's order;
// bad positions are refused and change nothing.
func TestSubscribeAfterTwoAuthors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bob, ana, task := startPair(t, ctx)
	sub, err := bob.Subscribe(task)
	if err != nil {
		t.Fatal(err)
	}
	pr := sub.Start()
	mustSend(t, ctx, bob, task, "bob-0")
	mustSend(t, ctx, ana, task, "ana-0")
	drain(t, sub, 2, pr)
	sub.Close()
	var want []string
	for i := 1; i <= 20; i++ {
		for _, p := range []*Peer{bob, ana} {
			name := map[*Peer]string{bob: "bob", ana: "ana"}[p]
			mustSend(t, ctx, p, task, fmt.Sprintf("%s-%d", name, i))
			want = append(want, fmt.Sprintf("%s-%d", name, i))
		}
	}
	waitFor(t, bob, task, "ana-20 at bob", hasText("ana-20"))

	res, err := bob.SubscribeAfter(task, pr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var got []*Message
	for len(got) < len(want) {
		select {
		case m := <-res.C:
			got = append(got, m)
		case <-ctx.Done():
			t.Fatalf("resumed: %d of %d messages", len(got), len(want))
		}
	}
	counts := map[string]int{}
	last := map[string]uint64{}
	for _, m := range got {
		counts[m.Text]++
		if a := m.Head.Author.String(); m.Head.Index <= last[a] {
			t.Errorf("%s came after %s/%d", m.Head, a, last[a])
		}
		last[m.Head.Author.String()] = m.Head.Index
	}
	for _, w := range want {
		if counts[w] != 1 {
			t.Errorf("%q delivered %d times after resuming", w, counts[w])
		}
	}

	// A position ahead of what bob has read, or nonsense, is refused.
	ahead := Progress{ana.ID(): 10_000}
	if _, err := bob.SubscribeAfter(task, ahead); !errors.Is(err, ErrInvalid) {
		t.Errorf("SubscribeAfter(%s) = %v, want ErrInvalid", ahead, err)
	}
	for _, s := range []string{"", "x", "12D3KooW/1", ana.ID().String() + "/1," + ana.ID().String() + "/2", ana.ID().String() + "/-1"} {
		if _, err := ParseProgress(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseProgress(%q) = %v, want ErrInvalid", s, err)
		}
	}
	if pr, err := ParseProgress("0"); err != nil || len(pr) != 0 || pr.String() != "0" {
		t.Errorf("ParseProgress(0) = %v, %v", pr, err)
	}
	if _, err := bob.SubscribeAfter(TaskID{1}, nil); !errors.Is(err, ErrNoTask) {
		t.Errorf("SubscribeAfter on no task: %v", err)
	}
}
