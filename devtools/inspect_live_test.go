package devtools

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// openLivePeer opens a peer on loopback whose vault and DB report to hub.
func openLivePeer(t *testing.T, ctx context.Context, dir, name string, hub *EventHub) *peer.Peer {
	t.Helper()
	p, err := peer.Open(ctx, dir, &peer.Options{
		Vault: &vault.Options{Name: name, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, DisableDHT: true, DisableMDNS: true,
			Listener: hub.VaultListener(nil), DB: &db.Options{NoSync: true, EventListener: hub.BookListener(nil)}},
		Retry: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// liveEnv is the Env a daemon builds for the inspector.
func liveEnv(p *peer.Peer, dir string, hub *EventHub) *Env {
	v := p.Vault()
	return &Env{Dir: dir, DB: v.DB(), Peerstore: v.Peerstore(), Vault: v, Peer: p, Events: hub.Subscribe}
}

func runLive(t *testing.T, ctx context.Context, env *Env, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := RunInspector(ctx, env, args, &out, &errb)
	if errb.Len() > 0 {
		t.Logf("%v: stderr: %s", args, errb.String())
	}
	return out.String(), code
}

// TestInspectLive runs the inspector in a running peer (Ana) that shares a
// task with another (Bob), as the daemon does: books name the peer each
// pair book replicates with, peers and stats see the live state, the
// peerstore rebuilds to the live projection, and watch tails appends and
// the peer's events until its context ends.
func TestInspectLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two libp2p peers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := t.TempDir()
	hub := NewEventHub()
	ana := openLivePeer(t, ctx, filepath.Join(root, "ana"), "Ana", hub)
	bob := openLivePeer(t, ctx, filepath.Join(root, "bob"), "Bob", NewEventHub())
	task, err := ana.CreateTask(ctx, "Plan the trip", peer.TaskID{})
	if err != nil {
		t.Fatal(err)
	}
	invite, err := ana.Invite(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Join(ctx, invite); err != nil {
		t.Fatal(err)
	}
	env := liveEnv(ana, filepath.Join(root, "ana"), hub)
	forBob := (&pairTitle{Author: ana.ID(), Reader: bob.ID(), Task: task}).String()

	// books: the pair books replicate with Bob once the session runs
	var books struct {
		Live  bool
		Books []BookInfo
	}
	for {
		out, exit := runLive(t, ctx, env, "books", "--json")
		if exit != 0 {
			t.Fatalf("books: exit %d", exit)
		}
		if err := json.Unmarshal([]byte(out), &books); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(books.Books, func(b BookInfo) bool { return b.Title == forBob })
		if i >= 0 && slices.Equal(books.Books[i].ReplicatesWith, []string{bob.ID().String()}) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("book %s never replicated with Bob: %s", forBob, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, b := range books.Books {
		if b.ReplicatesWith == nil || (strings.HasPrefix(b.Title, vault.PrivatePrefix) && len(b.ReplicatesWith) > 0) {
			t.Errorf("book %s replicates with %v", b.Title, b.ReplicatesWith)
		}
	}
	if !books.Live {
		t.Error("books --json: live false")
	}

	out, exit := runLive(t, ctx, env, "peers")
	if exit != 0 || !strings.Contains(out, bob.ID().String()) || !strings.Contains(out, "the live peerstore") {
		t.Errorf("peers: exit %d\n%s", exit, out)
	}
	out, exit = runLive(t, ctx, env, "peerstore", "rebuild")
	if exit != 0 || !strings.Contains(out, "the rebuilt projection equals the live one") {
		t.Errorf("peerstore rebuild: exit %d\n%s", exit, out)
	}
	out, exit = runLive(t, ctx, env, "stats", "--json")
	var st StatsReport
	if exit != 0 || json.Unmarshal([]byte(out), &st) != nil || !st.Live || st.Peerstore == nil || !slices.Contains(st.Sessions, bob.ID().String()) {
		t.Errorf("stats: exit %d\n%s", exit, out)
	}
	if out, exit = runLive(t, ctx, env, "verify"); exit != 0 {
		t.Errorf("verify: exit %d\n%s", exit, out)
	}
	if out, exit = runLive(t, ctx, env, "page", forBob, "1", "--proof"); exit != 0 || !strings.Contains(out, "verified:") {
		t.Errorf("page --proof: exit %d\n%s", exit, out)
	}
	if _, exit = runLive(t, ctx, env, "lab", "2"); exit != 2 {
		t.Errorf("lab inside a peer: exit %d, want 2", exit)
	}

	// watch: an append to the pair book and an event of the peer
	wctx, stop := context.WithCancel(ctx)
	var wout, werr lockedBuffer
	done := make(chan int, 1)
	go func() { done <- RunInspector(wctx, env, []string{"watch", forBob}, &wout, &werr) }()
	waitFor(t, ctx, &wout, "watching 1 books")
	if _, err := ana.Send(ctx, task, "Train or car?"); err != nil {
		t.Fatal(err)
	}
	hub.Publish(Event{Kind: "handshake", Peer: bob.ID().String(), Detail: "from the test"})
	waitFor(t, ctx, &wout, "append")
	waitFor(t, ctx, &wout, "from the test")
	stop()
	if code := <-done; code != 0 {
		t.Errorf("watch: exit %d: %s", code, werr.String())
	}
	if !regexp.MustCompile(`append .* length [0-9]+ → [0-9]+`).MatchString(wout.String()) {
		t.Errorf("watch output:\n%s", wout.String())
	}
}

// waitFor waits until b holds want.
func waitFor(t *testing.T, ctx context.Context, b *lockedBuffer, want string) {
	t.Helper()
	for !strings.Contains(b.String(), want) {
		if ctx.Err() != nil {
			t.Fatalf("output never showed %q:\n%s", want, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
