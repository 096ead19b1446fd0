package peer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/folio-p2p/folio/vault"
)

func testOptions(name string) *Options {
	return &Options{
		Vault: &vault.Options{
			Name:        name,
			ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
			DisableDHT:  true,
			DisableMDNS: true,
		},
		Retry: 200 * time.Millisecond,
	}
}

func openPeer(t testing.TB, dir, name string) *Peer {
	t.Helper()
	p, err := Open(context.Background(), dir, testOptions(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// texts renders a timeline as "author-name: text" lines for comparison.
func texts(ms []*Message) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		s := fmt.Sprintf("%s/%d %v %q", m.Head.Author.ShortString(), m.Head.Index, m.Type, m.Text)
		if m.Deleted {
			s += " (deleted)"
		}
		if m.Edited {
			s += " (edited)"
		}
		if m.Err != nil {
			s += " ERR " + m.Err.Error()
		}
		out = append(out, s)
	}
	return out
}

// waitTimeline waits until p's timeline of task has n entries.
func waitTimeline(t testing.TB, p *Peer, task TaskID, n int, timeout time.Duration) []*Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ms, err := p.Timeline(context.Background(), task, &TimelineOptions{Limit: n + 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: timeline has %d entries, want %d", p.ID().ShortString(), len(ms), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newInvite creates a root task at p and an invite to it.
func newInvite(ctx context.Context, t testing.TB, p *Peer, title string) (TaskID, string) {
	t.Helper()
	task, err := p.CreateTask(ctx, title, TaskID{})
	if err != nil {
		t.Fatal(err)
	}
	code, err := p.Invite(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	return task, code
}
