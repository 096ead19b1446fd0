package peer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
)

// Helpers shared by the group, offline, bad-input, randomized and big
// scenarios.

// startPair opens bob and ana, has bob create a task and ana join it.
func startPair(t testing.TB, ctx context.Context) (bob, ana *Peer, task TaskID) {
	t.Helper()
	bob = openPeer(t, t.TempDir(), "bob")
	ana = openPeer(t, t.TempDir(), "ana")
	task = mustCreate(t, ctx, bob, "trip")
	mustJoin(t, ctx, bob, ana, task)
	return bob, ana, task
}

func mustCreate(t testing.TB, ctx context.Context, p *Peer, title string) TaskID {
	t.Helper()
	task, err := p.CreateTask(ctx, title, TaskID{})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// mustJoin has joiner join task through an invite of inviter.
func mustJoin(t testing.TB, ctx context.Context, inviter, joiner *Peer, task TaskID) {
	t.Helper()
	code, err := inviter.Invite(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	got, err := joiner.Join(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if got != task {
		t.Fatalf("joined %s, want %s", got, task)
	}
}

func mustSend(t testing.TB, ctx context.Context, p *Peer, task TaskID, text string) Head {
	t.Helper()
	h, err := p.Send(ctx, task, text)
	if err != nil {
		t.Fatalf("%s send %q: %v", p.ID().ShortString(), text, err)
	}
	return h
}

// timelineAll is p's whole timeline of task.
func timelineAll(t testing.TB, p *Peer, task TaskID) []*Message {
	t.Helper()
	ms, err := p.Timeline(context.Background(), task, &TimelineOptions{Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// waitConverged waits until every peer's timeline of task has exactly n
// entries and all of them render the same, and returns that timeline.
func waitConverged(t testing.TB, peers []*Peer, task TaskID, n int, timeout time.Duration) []*Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var first []*Message
		var why string
		for i, p := range peers {
			ms := timelineAll(t, p, task)
			if len(ms) != n {
				why = fmt.Sprintf("%s has %d entries, want %d", p.ID().ShortString(), len(ms), n)
				break
			}
			if i == 0 {
				first = ms
				continue
			}
			if a, b := texts(first), texts(ms); !slices.Equal(a, b) {
				why = fmt.Sprintf("%s and %s differ:\n%s", peers[0].ID().ShortString(), p.ID().ShortString(), diffLines(a, b))
				break
			}
		}
		if why == "" {
			return first
		}
		if time.Now().After(deadline) {
			t.Fatalf("timelines did not converge in %v: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// diffLines shows the first line where a and b differ.
func diffLines(a, b []string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("line %d: %s\n     vs: %s", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}

// textCounts counts the text messages of a timeline by text.
func textCounts(ms []*Message) map[string]int {
	out := map[string]int{}
	for _, m := range ms {
		if m.Err == nil && m.Update == nil && m.Member == "" {
			out[m.Text]++
		}
	}
	return out
}

// checkExactlyOnce asserts that ms holds every text of want exactly once
// and no other text message.
func checkExactlyOnce(t testing.TB, who string, ms []*Message, want []string) {
	t.Helper()
	got := textCounts(ms)
	for _, w := range want {
		if got[w] != 1 {
			t.Errorf("%s: %q appears %d times, want once", who, w, got[w])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d distinct texts, want %d", who, len(got), len(want))
	}
}

// auditBooks audits every pair book of task that p holds.
func auditBooks(t testing.TB, ctx context.Context, p *Peer, task TaskID) map[string][]byte {
	t.Helper()
	books, err := p.Books(task)
	if err != nil {
		t.Fatal(err)
	}
	for title, key := range books {
		b, err := p.Vault().DB().OpenKey(ctx, key)
		if err != nil {
			t.Fatalf("%s: open %s: %v", p.ID().ShortString(), title, err)
		}
		rep, err := b.Audit(ctx)
		if err != nil {
			t.Fatalf("%s: audit %s: %v", p.ID().ShortString(), title, err)
		}
		if !rep.OK() {
			t.Errorf("%s: audit %s: %v", p.ID().ShortString(), title, rep.Err())
		}
	}
	return books
}

// tcpPort is the TCP port p listens on at 127.0.0.1.
func tcpPort(t testing.TB, p *Peer) string {
	t.Helper()
	for _, a := range p.Vault().Host().Addrs() {
		ip, err1 := a.ValueForProtocol(ma.P_IP4)
		port, err2 := a.ValueForProtocol(ma.P_TCP)
		if err1 == nil && err2 == nil && ip == "127.0.0.1" {
			return port
		}
	}
	t.Fatalf("%s listens on no 127.0.0.1 TCP address: %v", p.ID().ShortString(), p.Vault().Host().Addrs())
	return ""
}

// optionsOnPort is testOptions listening on a fixed TCP port.
func optionsOnPort(name, port string) *Options {
	o := testOptions(name)
	o.Vault.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/" + port}
	return o
}

func reopen(t testing.TB, dir string, o *Options) *Peer {
	t.Helper()
	p, err := Open(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestThreeMembers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bob, ana, task := startPair(t, ctx)
	var sent []string
	say := func(p *Peer, text string) {
		mustSend(t, ctx, p, task, text)
		sent = append(sent, text)
	}
	for i := 0; i < 5; i++ {
		say(bob, fmt.Sprintf("bob before carol %d", i))
		say(ana, fmt.Sprintf("ana before carol %d", i))
	}
	// task update + ana's join + 10 messages
	waitConverged(t, []*Peer{bob, ana}, task, 2+len(sent), 30*time.Second)

	carol := openPeer(t, t.TempDir(), "carol")
	mustJoin(t, ctx, ana, carol, task)
	// Carol gets the history written before she joined.
	cm := waitTimeline(t, carol, task, 3+len(sent), 30*time.Second)
	checkExactlyOnce(t, "carol", cm, sent)

	// Bob's messages now reach Carol through Bob's own book for her.
	for i := 0; i < 5; i++ {
		say(bob, fmt.Sprintf("bob after carol %d", i))
		say(carol, fmt.Sprintf("carol %d", i))
		say(ana, fmt.Sprintf("ana after carol %d", i))
	}
	peers := []*Peer{bob, ana, carol}
	// task update + 2 joins + messages
	final := waitConverged(t, peers, task, 3+len(sent), 30*time.Second)
	checkExactlyOnce(t, "all", final, sent)
	var joins []string
	for _, m := range final {
		if m.Type.String() == "TYPE_JOIN" {
			joins = append(joins, m.Member.ShortString())
		}
	}
	if want := []string{ana.ID().ShortString(), carol.ID().ShortString()}; !slices.Equal(joins, want) {
		t.Errorf("joins %v, want %v", joins, want)
	}

	// Each member holds 2(n-1) pair books; the task has n(n-1).
	union := map[string]bool{}
	for _, p := range peers {
		books := auditBooks(t, ctx, p, task)
		if len(books) != 2*(len(peers)-1) {
			t.Errorf("%s holds %d books, want %d: %v", p.ID().ShortString(), len(books), 2*(len(peers)-1), keys(books))
		}
		for title := range books {
			union[title] = true
		}
	}
	if len(union) != len(peers)*(len(peers)-1) {
		t.Errorf("%d distinct books, want %d: %v", len(union), len(peers)*(len(peers)-1), keys(union))
	}
	for _, a := range peers {
		for _, r := range peers {
			if a != r && !union[bookName(a.ID(), r.ID(), task)] {
				t.Errorf("no book %s→%s", a.ID().ShortString(), r.ID().ShortString())
			}
		}
	}
	for title := range union {
		if !strings.HasSuffix(title, "-"+task.String()) {
			t.Errorf("book %q is not of task %s", title, task)
		}
	}

	// Carol's book from Bob starts with the whole history of Bob's log.
	bb, err := carol.Vault().DB().OpenKey(ctx, mustBooks(t, carol, task)[bookName(bob.ID(), carol.ID(), task)])
	if err != nil {
		t.Fatal(err)
	}
	if n := countAuthor(final, bob); bb.Length() != uint64(n)+1 {
		t.Errorf("bob's book for carol has %d pages, want %d (address + bob's %d messages)", bb.Length(), n+1, n)
	}
}

func countAuthor(ms []*Message, p *Peer) int {
	n := 0
	for _, m := range ms {
		if m.Head.Author == p.ID() {
			n++
		}
	}
	return n
}

func mustBooks(t testing.TB, p *Peer, task TaskID) map[string][]byte {
	t.Helper()
	b, err := p.Books(task)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
