package peer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/peer/pb"
)

// postTwice posts d and then its retry; the retry must return the same
// message and write nothing.
func postTwice(t *testing.T, ctx context.Context, p *Peer, task TaskID, d Draft) Head {
	t.Helper()
	h, again, err := p.Post(ctx, task, d)
	if err != nil || again {
		t.Fatalf("first Post(%+v) = %v, again %v", d, err, again)
	}
	mustRetry(t, ctx, p, task, d, h)
	return h
}

// mustRetry posts d again and expects the message h back, nothing written.
func mustRetry(t *testing.T, ctx context.Context, p *Peer, task TaskID, d Draft, h Head) {
	t.Helper()
	before := myLength(p, task)
	got, again, err := p.Post(ctx, task, d)
	if err != nil || !again || got.Author != h.Author || got.Index != h.Index {
		t.Fatalf("retry of %+v = %s, again %v, %v; want %s, again", d, got, again, err, h)
	}
	if after := myLength(p, task); after != before {
		t.Fatalf("the retry wrote: log %d → %d", before, after)
	}
}

func myLength(p *Peer, task TaskID) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, _ := p.myLog(p.roots[p.rootOf(task)])
	return n
}

// TestIdempotentPost: a keyed write retried gives the same message and
// writes nothing, after a reopen too, alone in a task (the journal's
// outbox) and with a member (the pair books); the same key with another
// message, or a bad key, is refused and writes nothing; a key older than
// the window is a new message.
func TestIdempotentPost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	o := testOptions("bob")
	o.IdempotencyWindow = 5
	bob := reopen(t, dir, o)
	solo := mustCreate(t, ctx, bob, "solo")
	pair := mustCreate(t, ctx, bob, "pair")
	ana := openPeer(t, t.TempDir(), "ana")
	mustJoin(t, ctx, bob, ana, pair)

	type keyed struct {
		task TaskID
		d    Draft
		h    Head
	}
	var all []keyed
	for _, task := range []TaskID{solo, pair} {
		h := postTwice(t, ctx, bob, task, Draft{Text: "hello", Key: "k-1"})
		all = append(all, keyed{task, Draft{Text: "hello", Key: "k-1"}, h})
		reply := Draft{Type: pb.Type_TYPE_REPLY, Text: "re", Ref: h, Key: "k-2"}
		all = append(all, keyed{task, reply, postTwice(t, ctx, bob, task, reply)})
		// The same key with another text, type or target is refused.
		before := myLength(bob, task)
		for _, d := range []Draft{
			{Text: "hullo", Key: "k-1"},
			{Type: pb.Type_TYPE_REPLY, Text: "hello", Ref: h, Key: "k-1"},
			{Type: pb.Type_TYPE_REPLY, Text: "re", Ref: Head{Author: bob.ID(), Index: 1}, Key: "k-2"},
		} {
			if _, _, err := bob.Post(ctx, task, d); !errors.Is(err, ErrKeyReused) {
				t.Errorf("Post(%+v) with a used key = %v, want ErrKeyReused", d, err)
			}
		}
		for _, key := range []string{"bad\nkey", "tab\tkey", strings.Repeat("k", MaxKeySize+1), "é"} {
			if _, _, err := bob.Post(ctx, task, Draft{Text: "x", Key: key}); !errors.Is(err, ErrInvalid) {
				t.Errorf("Post with key %q = %v, want ErrInvalid", key, err)
			}
		}
		if after := myLength(bob, task); after != before {
			t.Errorf("refused posts wrote: log %d → %d", before, after)
		}
	}
	// A subtask shares its root's log: the key names the root's message.
	if _, _, err := bob.Post(ctx, mustSubtask(t, ctx, bob, pair), Draft{Text: "hello", Key: "k-1"}); !errors.Is(err, ErrKeyReused) {
		t.Errorf("the same key in a subtask: %v, want ErrKeyReused", err)
	}

	// After a reopen the keys are found again from the logs.
	bob.Close()
	bob = reopen(t, dir, o)
	for _, k := range all {
		mustRetry(t, ctx, bob, k.task, k.d, k.h)
	}
	if n := textCounts(timelineAll(t, bob, pair))["hello"]; n != 1 {
		t.Errorf("the pair task holds %d \"hello\", want 1", n)
	}
	// Four more messages: of the latest five (window 5), k-2's is the
	// oldest; k-1's is out.
	for range 4 {
		mustSend(t, ctx, bob, solo, "filler")
	}
	mustRetry(t, ctx, bob, solo, all[1].d, all[1].h)
	if h, again, err := bob.Post(ctx, solo, all[0].d); err != nil || again || h.Index == all[0].h.Index {
		t.Errorf("a key past the window: %s again %v %v, want a new message", h, again, err)
	}
}

func mustSubtask(t *testing.T, ctx context.Context, p *Peer, parent TaskID) TaskID {
	t.Helper()
	id, err := p.CreateTask(ctx, "sub", parent)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
