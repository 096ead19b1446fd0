package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// apiPeer is a peer opened in this process, serving its API on the
// vault's socket (tune, if given, adjusts the server before it serves).
type apiPeer struct {
	dir string
	p   *peer.Peer
	srv *Server
	c   *api.Client  // api.Dial's client
	hc  *http.Client // raw HTTP on the socket
}

func openAPIPeer(t *testing.T, name string, tune ...func(*Server)) *apiPeer {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), name) // created by the vault
	p, err := peer.Open(ctx, dir, &peer.Options{
		Vault: &vault.Options{Name: name, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, DisableDHT: true, DisableMDNS: true},
		Retry: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	srv := NewServer(p, dir, nil, nil)
	for _, f := range tune {
		f(srv)
	}
	sock, err := srv.ListenUnix(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if sock != filepath.Join(dir, api.SocketName) {
		t.Fatalf("ListenUnix served %s, want %s", sock, filepath.Join(dir, api.SocketName))
	}
	c, err := api.Dial(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	return &apiPeer{dir: dir, p: p, srv: srv, c: c, hc: unixHTTP(sock)}
}

func unixHTTP(sock string) *http.Client {
	return &http.Client{Timeout: 90 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

// call makes one raw request; body "" sends none.
func (a *apiPeer) call(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	h := hdr{}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	code, header, b := endpoint{a.hc, "http://folio"}.do(t, method, path, body, h)
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want JSON", method, path, ct)
	}
	return code, b
}

// ok makes a request that must succeed with code, decoding into out.
func (a *apiPeer) ok(t *testing.T, code int, method, path, body string, out any) {
	t.Helper()
	got, b := a.call(t, method, path, body)
	if got != code {
		t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, got, b, code)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// fails makes a request that must fail with code and a JSON error body;
// it returns the error text.
func (a *apiPeer) fails(t *testing.T, code int, method, path, body string) string {
	t.Helper()
	got, b := a.call(t, method, path, body)
	var e map[string]any
	if err := json.Unmarshal(b, &e); err != nil {
		t.Errorf("%s %s %s: error body is not JSON: %q", method, path, body, b)
	}
	msg, _ := e["error"].(string)
	if got != code || msg == "" || len(e) != 1 {
		t.Errorf("%s %s %s: %d %s, want %d and {\"error\": \"...\"}", method, path, body, got, b, code)
	}
	return msg
}

// TestAPI exercises every endpoint of the local API, its successes and
// its errors, through the vault's socket.
func TestAPI(t *testing.T) {
	ana, bob, cleo := openAPIPeer(t, "ana"), openAPIPeer(t, "bob"), openAPIPeer(t, "cleo")
	ctx := context.Background()

	t.Run("permissions", func(t *testing.T) {
		st, err := os.Stat(filepath.Join(ana.dir, api.SocketName))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
			t.Errorf("socket mode %v, want a socket with 0600", st.Mode())
		}
		st, err = os.Stat(ana.dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("vault directory mode %v, want 0700", st.Mode().Perm())
		}
	})

	t.Run("id", func(t *testing.T) {
		var id api.ID
		ana.ok(t, 200, "GET", "/v1/id", "", &id)
		if id.ID != ana.p.ID().String() || id.Name != "ana" || id.Dir != ana.dir || len(id.Addrs) == 0 {
			t.Fatalf("GET /v1/id: %+v", id)
		}
		for _, a := range id.Addrs {
			if !strings.HasSuffix(a, "/p2p/"+id.ID) {
				t.Errorf("address %s does not end with /p2p/%s", a, id.ID)
			}
		}
		ana.fails(t, 405, "POST", "/v1/id", "{}") // wrong method
	})

	var task, sub api.Task
	t.Run("tasks", func(t *testing.T) {
		code, b := ana.call(t, "GET", "/v1/tasks", "")
		if code != 200 || strings.TrimSpace(string(b)) != "[]" {
			t.Errorf("GET /v1/tasks on a new vault: %d %s, want 200 []", code, b)
		}
		ana.ok(t, 201, "POST", "/v1/tasks", `{"title":"trip"}`, &task)
		if task.Title != "trip" || len(task.ID) != 32 || len(task.Members) != 1 || task.Members[0] != ana.p.ID().String() {
			t.Fatalf("POST /v1/tasks: %+v", task)
		}
		ana.ok(t, 201, "POST", "/v1/tasks", `{"title":"tickets","parent":"trip"}`, &sub)
		if sub.Parent != task.ID {
			t.Errorf("subtask's parent %q, want %s", sub.Parent, task.ID)
		}
		var ts []api.Task
		ana.ok(t, 200, "GET", "/v1/tasks", "", &ts)
		if len(ts) != 2 {
			t.Errorf("GET /v1/tasks: %+v, want 2 tasks", ts)
		}
		ana.fails(t, 400, "POST", "/v1/tasks", `{"title":`)
		ana.fails(t, 400, "POST", "/v1/tasks", ``)
		ana.fails(t, 400, "POST", "/v1/tasks", `["trip"]`)
		ana.fails(t, 400, "POST", "/v1/tasks", `{"title":"x","colour":"red"}`)
		if msg := ana.fails(t, 400, "POST", "/v1/tasks", `{}`); !strings.Contains(msg, "title") {
			t.Errorf("missing title: error %q does not name the field", msg)
		}
		ana.fails(t, 400, "POST", "/v1/tasks", `{"title":"   "}`)
		ana.fails(t, 404, "POST", "/v1/tasks", `{"title":"x","parent":"no-such-task"}`)
		ana.fails(t, 405, "DELETE", "/v1/tasks", "")
	})

	var code string
	t.Run("invite", func(t *testing.T) {
		var in api.Invite
		ana.ok(t, 201, "POST", "/v1/tasks/trip/invite", "", &in)
		if !strings.HasPrefix(in.Code, "folio1-") || in.Task != task.ID {
			t.Fatalf("POST invite: %+v", in)
		}
		code = in.Code
		ana.fails(t, 404, "POST", "/v1/tasks/no-such-task/invite", "")
		ana.fails(t, 404, "POST", "/v1/tasks/"+strings.Repeat("0", 32)+"/invite", "")
		ana.fails(t, 405, "GET", "/v1/tasks/trip/invite", "")
	})

	t.Run("join", func(t *testing.T) {
		var joined api.Task
		bob.ok(t, 200, "POST", "/v1/join", fmt.Sprintf(`{"code":%q}`, code), &joined)
		if joined.ID != task.ID || joined.Title != "trip" {
			t.Fatalf("POST /v1/join: %+v, want task %s", joined, task.ID)
		}
		// A used invite is refused by the inviter.
		if msg := cleo.fails(t, 403, "POST", "/v1/join", fmt.Sprintf(`{"code":%q}`, code)); !strings.Contains(msg, "used") {
			t.Errorf("used invite: error %q does not say it was used", msg)
		}
		// A code with one character changed fails its checksum.
		garbled := []byte(code)
		i := len(garbled) - 5
		if garbled[i] == 'a' {
			garbled[i] = 'b'
		} else {
			garbled[i] = 'a'
		}
		cleo.fails(t, 400, "POST", "/v1/join", fmt.Sprintf(`{"code":%q}`, garbled))
		cleo.fails(t, 400, "POST", "/v1/join", `{"code":"garbage"}`)
		cleo.fails(t, 400, "POST", "/v1/join", `{"code":""}`)
		cleo.fails(t, 400, "POST", "/v1/join", `{}`)
		cleo.fails(t, 400, "POST", "/v1/join", `{"code":`)
		cleo.fails(t, 400, "POST", "/v1/join", `not json`)
		if code, b := cleo.call(t, "GET", "/v1/tasks", ""); code != 200 || strings.TrimSpace(string(b)) != "[]" {
			t.Errorf("cleo's tasks after refused joins: %d %s, want none", code, b)
		}
		// One's own invite is a mistake too: its author is a member.
		var own api.Invite
		ana.ok(t, 201, "POST", "/v1/tasks/trip/invite", "", &own)
		ana.fails(t, 409, "POST", "/v1/join", fmt.Sprintf(`{"code":%q}`, own.Code))
	})

	t.Run("messages", func(t *testing.T) {
		var m1, m2, r1, e1, d1, x1 api.Message
		ana.ok(t, 201, "POST", "/v1/tasks/trip/messages", `{"text":"hello"}`, &m1)
		if m1.Author != ana.p.ID().String() || m1.ID != fmt.Sprintf("%s/%d", m1.Author, m1.Index) || m1.Task != task.ID {
			t.Fatalf("POST message: %+v", m1)
		}
		ana.ok(t, 201, "POST", "/v1/tasks/"+task.ID[:8]+"/messages", `{"type":"text","text":"typo"}`, &m2)
		// bob answers, once ana's messages have reached him.
		waitFor(t, 60*time.Second, "ana's messages at bob", func() (bool, string) {
			ms, err := bob.c.Messages(ctx, task.ID, 100, "")
			for _, m := range ms {
				if m.ID == m2.ID {
					return true, ""
				}
			}
			return false, fmt.Sprint(len(ms), err)
		})
		bob.ok(t, 201, "POST", "/v1/tasks/trip/messages", fmt.Sprintf(`{"type":"reply","text":"hi ana","ref":%q}`, m1.ID), &r1)
		bob.ok(t, 201, "POST", "/v1/tasks/trip/messages", fmt.Sprintf(`{"type":"reaction","text":"👍","ref":%q}`, m1.ID), &x1)
		ana.ok(t, 201, "POST", "/v1/tasks/trip/messages", fmt.Sprintf(`{"type":"edit","text":"typo fixed","ref":%q}`, m2.ID), &e1)
		ana.ok(t, 201, "POST", "/v1/tasks/trip/messages", fmt.Sprintf(`{"type":"delete","ref":%q}`, m1.ID), &d1)
		// Only the author edits or deletes.
		bob.fails(t, 403, "POST", "/v1/tasks/trip/messages", fmt.Sprintf(`{"type":"edit","text":"mine now","ref":%q}`, m1.ID))
		bob.fails(t, 403, "POST", "/v1/tasks/trip/messages", fmt.Sprintf(`{"type":"delete","ref":%q}`, m2.ID))
		// Missing fields, bad values, unknown task, bad JSON.
		if msg := ana.fails(t, 400, "POST", "/v1/tasks/trip/messages", `{}`); !strings.Contains(msg, "text") {
			t.Errorf("missing text: error %q does not name the field", msg)
		}
		ana.fails(t, 400, "POST", "/v1/tasks/trip/messages", `{"type":"shout","text":"x"}`)
		ana.fails(t, 400, "POST", "/v1/tasks/trip/messages", `{"type":"reply","text":"x"}`)
		ana.fails(t, 400, "POST", "/v1/tasks/trip/messages", `{"type":"delete"}`)
		ana.fails(t, 400, "POST", "/v1/tasks/trip/messages", `{"type":"reply","text":"x","ref":"nonsense"}`)
		ana.fails(t, 400, "POST", "/v1/tasks/trip/messages", `{"type":"reply","text":"x","ref":"12D3KooW/notanumber"}`)
		ana.fails(t, 400, "POST", "/v1/tasks/trip/messages", `{"text":"x","extra":1}`)
		ana.fails(t, 400, "POST", "/v1/tasks/trip/messages", `{"text":`)
		ana.fails(t, 400, "POST", "/v1/tasks/trip/messages", `"hello"`)
		ana.fails(t, 404, "POST", "/v1/tasks/nope/messages", `{"text":"x"}`)
		cleo.fails(t, 404, "POST", "/v1/tasks/"+task.ID+"/messages", `{"text":"x"}`)

		// The timeline at both peers: edits and deletes applied, the
		// reply and the reaction in place.
		want := func(ms []api.Message) string {
			var texts []string
			for _, m := range ms {
				switch {
				case m.ID == m1.ID:
					if !m.Deleted || m.Text != "" || len(m.Reactions["👍"]) != 1 {
						return fmt.Sprintf("m1 %+v, want deleted with bob's reaction", m)
					}
				case m.ID == m2.ID:
					if !m.Edited || m.Text != "typo fixed" {
						return fmt.Sprintf("m2 %+v, want edited", m)
					}
				case m.ID == r1.ID:
					if m.Type != "reply" || m.Ref != m1.ID || m.Name != "bob" {
						return fmt.Sprintf("r1 %+v, want bob's reply to m1", m)
					}
				}
				texts = append(texts, m.Type+":"+m.Text)
			}
			if got := strings.Join(texts, ","); got != "task:trip,task:tickets,join:,text:,text:typo fixed,reply:hi ana" {
				return got
			}
			return ""
		}
		for _, pe := range []*apiPeer{ana, bob} {
			waitFor(t, 60*time.Second, pe.dir+"'s timeline", func() (bool, string) {
				var ms []api.Message
				pe.ok(t, 200, "GET", "/v1/tasks/trip/messages", "", &ms)
				s := want(ms)
				return s == "", s
			})
		}
		// Paging: the newest 2, then the 2 before them.
		var page1, page2 []api.Message
		ana.ok(t, 200, "GET", "/v1/tasks/trip/messages?limit=2", "", &page1)
		if len(page1) != 2 || page1[1].ID != r1.ID || page1[0].ID != m2.ID {
			t.Errorf("limit=2: %+v", page1)
		} else {
			ana.ok(t, 200, "GET", "/v1/tasks/trip/messages?limit=2&before="+page1[0].ID, "", &page2)
			if len(page2) != 2 || page2[1].ID != m1.ID {
				t.Errorf("limit=2 before %s: %+v", page1[0].ID, page2)
			}
		}
		ana.fails(t, 400, "GET", "/v1/tasks/trip/messages?limit=zero", "")
		ana.fails(t, 400, "GET", "/v1/tasks/trip/messages?limit=0", "")
		ana.fails(t, 400, "GET", "/v1/tasks/trip/messages?limit=-3", "")
		ana.fails(t, 400, "GET", "/v1/tasks/trip/messages?before=nonsense", "")
		ana.fails(t, 404, "GET", "/v1/tasks/trip/messages?before="+ana.p.ID().String()+"/999", "")
		ana.fails(t, 404, "GET", "/v1/tasks/nope/messages", "")
		ana.fails(t, 404, "GET", "/v1/tasks/nope/events", "")
	})

	t.Run("devtools", func(t *testing.T) {
		// This server has no inspector: a JSON error, not a crash.
		ana.fails(t, 501, "POST", "/v1/devtools", `{"args":["peers"]}`)
		ana.fails(t, 400, "POST", "/v1/devtools", `{"args":`)
		var se *api.StatusError
		if _, err := ana.c.Devtools(ctx, []string{"peers"}, io.Discard); !errors.As(err, &se) || se.Code != 501 || se.Message == "" {
			t.Errorf("Client.Devtools without an inspector: %v", err)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		for _, path := range []string{"/index.php", "/v2/id", "/v1/nothing", "/v1/tasks/trip/nothing", "/v1/tasks/trip/messages/extra"} {
			if msg := ana.fails(t, 404, "GET", path, ""); !strings.Contains(msg, path) {
				t.Errorf("GET %s: error %q does not name the path", path, msg)
			}
		}
	})

	t.Run("client", func(t *testing.T) {
		// The client turns error responses into StatusErrors.
		var se *api.StatusError
		if _, err := ana.c.Send(ctx, "nope", api.Send{Text: "x"}); !errors.As(err, &se) || se.Code != 404 || !strings.Contains(se.Message, "no such task") {
			t.Errorf("Client.Send to an unknown task: %v", err)
		}
		if _, err := ana.c.Join(ctx, "folio1-garbage"); !errors.As(err, &se) || se.Code != 400 {
			t.Errorf("Client.Join with a bad code: %v", err)
		}
		ts, err := bob.c.Tasks(ctx)
		if err != nil || len(ts) != 2 {
			t.Errorf("bob's tasks: %+v %v, want the task and its subtask", ts, err)
		}
		if _, err := api.Dial(ctx, t.TempDir()); !errors.Is(err, api.ErrNoDaemon) {
			t.Errorf("Dial on a directory with no socket: %v, want ErrNoDaemon", err)
		}
	})

	t.Run("http", func(t *testing.T) {
		addr, c := ana.listenTCP(t)
		id, err := c.ID(ctx)
		if err != nil || id.ID != ana.p.ID().String() {
			t.Errorf("GET /v1/id on http://%s: %+v %v", addr, id, err)
		}
		var se *api.StatusError
		if _, err := c.Invite(ctx, "nope"); !errors.As(err, &se) || se.Code != 404 {
			t.Errorf("invite for an unknown task over TCP: %v", err)
		}
	})
}

// TestAPISocket: a live socket is not taken over, a stale one (left by a
// killed daemon) is, and Close removes it.
func TestAPISocket(t *testing.T) {
	ana := openAPIPeer(t, "ana")
	ctx := context.Background()
	sock := filepath.Join(ana.dir, api.SocketName)
	second := NewServer(ana.p, ana.dir, nil, nil)
	if _, err := second.ListenUnix(ctx); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("a second server on a live socket: %v, want an error", err)
	}
	second.Close() // must leave the first server's socket alone
	if _, err := api.Dial(ctx, ana.dir); err != nil {
		t.Fatalf("the first server stopped answering: %v", err)
	}
	ana.srv.Close()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("the socket is still there after Close: %v", err)
	}
	if _, err := api.Dial(ctx, ana.dir); !errors.Is(err, api.ErrNoDaemon) {
		t.Fatalf("Dial after Close: %v, want ErrNoDaemon", err)
	}
	// A stale socket: bound, then left behind without a listener.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Dial(ctx, ana.dir); !errors.Is(err, api.ErrNoDaemon) {
		t.Fatalf("Dial on a stale socket: %v, want ErrNoDaemon", err)
	}
	srv := NewServer(ana.p, ana.dir, nil, nil)
	if _, err := srv.ListenUnix(ctx); err != nil {
		t.Fatalf("ListenUnix over a stale socket: %v", err)
	}
	defer srv.Close()
	if id, err := api.Dial(ctx, ana.dir); err != nil {
		t.Fatalf("Dial after taking over the stale socket: %v", err)
	} else if _, err := id.ID(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the new socket: %v %v, want mode 0600", st.Mode(), err)
	}
}

// follower records what api.Client.Follow delivers.
type follower struct {
	mu   sync.Mutex
	got  []api.Message
	done chan error
}

func follow(ctx context.Context, c *api.Client, task string) *follower {
	f := &follower{done: make(chan error, 1)}
	go func() {
		f.done <- c.Follow(ctx, task, func(m api.Message) error {
			f.mu.Lock()
			f.got = append(f.got, m)
			f.mu.Unlock()
			return nil
		})
	}()
	return f
}

func (f *follower) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.got))
	for i, m := range f.got {
		out[i] = m.Text
	}
	return out
}

func (f *follower) has(text string) bool {
	for _, s := range f.texts() {
		if s == text {
			return true
		}
	}
	return false
}

// TestAPIEvents: the SSE stream delivers every new message once, in
// order, to each subscriber, the local peer's messages and the remote
// peer's, and ends when the server closes.
func TestAPIEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ana, bob, task := apiPair(t, ctx, "trip")

	f1, f2 := follow(ctx, ana.c, task.ID), follow(ctx, ana.c, task.ID)
	// Nothing tells a client when its subscription is in place: send
	// markers until both have seen one; what comes after counts.
	for i := 0; ; i++ {
		marker := fmt.Sprintf("marker-%d", i)
		if _, err := ana.c.Send(ctx, task.ID, api.Send{Text: marker}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) && !(f1.has(marker) && f2.has(marker)) {
			time.Sleep(20 * time.Millisecond)
		}
		if f1.has(marker) && f2.has(marker) {
			break
		}
		if i == 30 {
			t.Fatalf("the followers saw no marker: %q, %q", f1.texts(), f2.texts())
		}
	}
	var want []string
	for i := range 20 {
		text := fmt.Sprintf("m-%02d", i)
		want = append(want, text)
		if _, err := ana.c.Send(ctx, task.ID, api.Send{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	// bob's messages arrive at ana's stream too.
	for i := range 5 {
		text := fmt.Sprintf("bob-%d", i)
		want = append(want, text)
		if _, err := bob.c.Send(ctx, task.ID, api.Send{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	want = append(want, "end")
	waitFor(t, 60*time.Second, "bob's messages at ana", func() (bool, string) {
		ms, err := ana.c.Messages(ctx, task.ID, 100, "")
		n := textCounts(ms)
		return n["bob-4"] == 1, fmt.Sprint(len(ms), err)
	})
	if _, err := ana.c.Send(ctx, task.ID, api.Send{Text: "end"}); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*follower{"first": f1, "second": f2} {
		waitFor(t, 60*time.Second, name+" subscriber gets the end", func() (bool, string) {
			return f.has("end"), strings.Join(f.texts(), ",")
		})
		var after []string
		seen := false
		for _, s := range f.texts() {
			if seen && !strings.HasPrefix(s, "marker-") {
				after = append(after, s)
			}
			if strings.HasPrefix(s, "marker-") {
				seen = true
			}
		}
		if strings.Join(after, ",") != strings.Join(want, ",") {
			t.Errorf("%s subscriber got %q after the markers, want %q", name, after, want)
		}
		f.mu.Lock()
		for _, m := range f.got {
			if m.Task != task.ID || m.ID == "" || m.Type != "text" {
				t.Errorf("%s subscriber: event %+v", name, m)
			}
		}
		f.mu.Unlock()
	}

	// Closing the server ends the streams.
	ana.srv.Close()
	for name, f := range map[string]*follower{"first": f1, "second": f2} {
		select {
		case <-f.done:
		case <-time.After(60 * time.Second):
			t.Errorf("%s subscriber still streaming after the server closed", name)
		}
	}
}
