package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/api"
)

// httpDaemon is a `folio run --http 127.0.0.1:0` process seen from
// outside: the TCP address it printed.
type httpDaemon struct {
	*daemon
	addr string // 127.0.0.1:PORT
}

var httpLine = regexp.MustCompile(`API on http://(\S+)`)

func startHTTPDaemon(t *testing.T, dir string) *httpDaemon {
	t.Helper()
	d := startDaemon(t, dir, "--http", "127.0.0.1:0")
	h := &httpDaemon{daemon: d}
	waitFor(t, 30*time.Second, "the daemon prints its TCP address", func() (bool, string) {
		m := httpLine.FindStringSubmatch(d.out.String())
		if m != nil {
			h.addr = m[1]
		}
		return m != nil, d.out.String()
	})
	return h
}

// listenTCP serves a's API on loopback TCP too and returns its address
// and a client with the vault's token.
func (a *apiPeer) listenTCP(t *testing.T) (string, *api.Client) {
	t.Helper()
	addr, err := a.srv.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := api.NewHTTPDir(addr, a.dir)
	if err != nil {
		t.Fatal(err)
	}
	return addr, c
}

// hdr is a request's headers; "Host" sets the Host header.
type hdr map[string]string

// endpoint is where raw requests go: a client and its base URL.
type endpoint struct {
	hc   *http.Client
	base string
}

func tcpEndpoint(addr string) endpoint {
	return endpoint{hc: &http.Client{Timeout: 90 * time.Second}, base: "http://" + addr}
}

// do makes one request (body "" sends none) and returns the status, the
// headers and the body.
func (e endpoint) do(t *testing.T, method, path, body string, h hdr) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return e.doReader(t, method, path, r, h)
}

// doReader is do with the body read from r: a body of unknown length
// (not a *strings.Reader) goes chunked.
func (e endpoint) doReader(t *testing.T, method, path string, r io.Reader, h hdr) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// refused makes a request that must fail with code and a JSON error.
func (e endpoint) refused(t *testing.T, code int, method, path, body string, h hdr) http.Header {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return e.refusedReader(t, code, method, path, r, h)
}

func (e endpoint) refusedReader(t *testing.T, code int, method, path string, r io.Reader, h hdr) http.Header {
	t.Helper()
	got, header, b := e.doReader(t, method, path, r, h)
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || m["error"] == "" || len(m) != 1 {
		t.Errorf("%s %s %v: body %q is not a JSON error", method, path, h, b)
	}
	if got != code {
		t.Errorf("%s %s %v: %d %s, want %d", method, path, h, got, b, code)
	}
	return header
}

// TestHTTPAttacks: what a web page the owner visits, a DNS-rebinding
// page or another local user can send to `folio run --http` is refused
// and changes nothing.
func TestHTTPAttacks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ana")
	mustFolio(t, "init", "--dir", dir, "--name", "ana")
	mustFolio(t, "task", "new", "trip", "--dir", dir)
	d := startHTTPDaemon(t, dir)
	tasks := func() string { return mustFolio(t, "task", "list", "--dir", dir, "--json") }
	before := tasks()
	host := d.addr
	ep := tcpEndpoint(d.addr)
	newTask := `{"title":"pwned"}`

	// A page on another site posts a "simple" request (text/plain, no
	// preflight): the browser adds its Origin and Sec-Fetch-Site.
	ep.refused(t, 403, "POST", "/v1/tasks", newTask, hdr{"Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
	ep.refused(t, 403, "POST", "/v1/tasks", newTask, hdr{"Content-Type": "text/plain", "Origin": "http://evil.example"})
	ep.refused(t, 403, "POST", "/v1/tasks", newTask, hdr{"Content-Type": "text/plain", "Origin": "null"})
	ep.refused(t, 403, "POST", "/v1/tasks", newTask, hdr{"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"})
	// Another server on the same loopback (another port) is same-site,
	// not same-origin.
	ep.refused(t, 403, "POST", "/v1/tasks", newTask, hdr{"Content-Type": "text/plain", "Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"})
	ep.refused(t, 403, "POST", "/v1/tasks/trip/invite", "", hdr{"Origin": "http://evil.example"})
	// DNS rebinding: the page's own name now resolves to 127.0.0.1, so
	// the browser sends its name as Host and counts it same-origin.
	port := host[strings.LastIndex(host, ":")+1:]
	for _, h := range []string{"evil.example:" + port, "evil.example", "127.0.0.1:1", "localhost.evil.example:" + port, "127.0.0.1." + ":" + port} {
		ep.refused(t, 421, "POST", "/v1/tasks", newTask, hdr{"Host": h, "Content-Type": "text/plain", "Origin": "http://" + h, "Sec-Fetch-Site": "same-origin"})
		ep.refused(t, 421, "GET", "/v1/tasks", "", hdr{"Host": h})
	}
	// Another local user has no credential.
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong", "Basic YW5hOmFuYQ==", "Bearer " + strings.Repeat("0", 64)} {
		h := hdr{"Content-Type": "application/json"}
		if auth != "" {
			h["Authorization"] = auth
		}
		header := ep.refused(t, 401, "POST", "/v1/tasks", newTask, h)
		if !strings.HasPrefix(header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 with Authorization %q: WWW-Authenticate %q, want Bearer", auth, header.Get("WWW-Authenticate"))
		}
		ep.refused(t, 401, "GET", "/v1/id", "", h)
	}
	if after := tasks(); after != before {
		t.Fatalf("the refused requests changed the tasks:\nbefore %s\nafter %s", before, after)
	}

	// The token: 32 random bytes in hex, owner-only, named but not
	// printed by folio run.
	path := filepath.Join(dir, api.TokenName)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(token) {
		t.Fatalf("token %q, want 64 hex digits", token)
	}
	if out := d.out.String(); strings.Contains(out, token) || !strings.Contains(out, path) {
		t.Errorf("folio run printed the token or not its path:\n%s", out)
	}
	// Refusals come in order: Host, Origin, credential, route, body.
	auth := "Bearer " + token
	ep.refused(t, 421, "GET", "/nothing", "", hdr{"Host": "evil.example", "Origin": "http://evil.example"})
	ep.refused(t, 403, "GET", "/nothing", "", hdr{"Origin": "http://evil.example"})
	ep.refused(t, 403, "GET", "/v1/id", "", hdr{"Origin": "http://evil.example", "Authorization": auth})
	ep.refused(t, 401, "GET", "/nothing", "", nil)
	ep.refused(t, 404, "POST", "/nothing", "x", hdr{"Authorization": auth, "Content-Type": "text/plain"})
	ep.refused(t, 405, "DELETE", "/v1/tasks", "x", hdr{"Authorization": auth, "Content-Type": "text/plain"})
	ep.refused(t, 415, "POST", "/v1/tasks", newTask, hdr{"Authorization": auth, "Content-Type": "text/plain"})
	ep.refused(t, 415, "POST", "/v1/tasks", newTask, hdr{"Authorization": auth})
	ep.refused(t, 413, "POST", "/v1/tasks", `{"title":"`+strings.Repeat("x", maxBody)+`"}`, hdr{"Authorization": auth, "Content-Type": "application/json"})
	ep.refused(t, 400, "POST", "/v1/tasks", newTask+`{"title":"again"}`, hdr{"Authorization": auth, "Content-Type": "application/json"})
	if after := tasks(); after != before {
		t.Fatalf("the refused requests changed the tasks:\nbefore %s\nafter %s", before, after)
	}
	// The owner's own page (same origin) and tools with the token.
	for _, h := range []hdr{
		{"Authorization": auth},
		{"Authorization": "bearer " + token, "Host": "localhost:" + port},
		{"Authorization": auth, "Host": "localhost:" + port, "Origin": "http://localhost:" + port, "Sec-Fetch-Site": "same-origin"},
		{"Authorization": auth, "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"},
	} {
		if code, _, b := ep.do(t, "GET", "/v1/tasks", "", h); code != 200 || !strings.Contains(string(b), "trip") {
			t.Errorf("GET /v1/tasks %v: %d %s, want 200 with the task", h, code, b)
		}
	}
}

// TestHTTPEveryEndpoint: with the token, api.Client reaches every
// endpoint on TCP; without it, none. Meanwhile the commands keep working
// through the Unix socket, which needs no token.
func TestHTTPEveryEndpoint(t *testing.T) {
	root := t.TempDir()
	dirA, dirB := filepath.Join(root, "a"), filepath.Join(root, "b")
	mustFolio(t, "init", "--dir", dirA, "--name", "ana")
	mustFolio(t, "init", "--dir", dirB, "--name", "bob")
	a := startHTTPDaemon(t, dirA)
	startDaemon(t, dirB)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var se *api.StatusError
	for _, tok := range []string{"", strings.Repeat("ab", api.TokenSize)} {
		if _, err := api.NewHTTP(a.addr, tok).Tasks(ctx); !errors.As(err, &se) || se.Code != 401 {
			t.Errorf("Tasks with token %q: %v, want a 401", tok, err)
		}
	}
	c, err := api.NewHTTPDir(a.addr, dirA)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := c.ID(ctx); err != nil || id.Name != "ana" {
		t.Fatalf("ID: %+v %v", id, err)
	}
	task, err := c.NewTask(ctx, api.NewTask{Title: "trip"})
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := c.Tasks(ctx); err != nil || len(ts) != 1 || ts[0].ID != task.ID {
		t.Fatalf("Tasks: %+v %v", ts, err)
	}
	got, ready := make(chan api.Message, 16), make(chan struct{})
	go c.FollowReady(ctx, task.ID, func() { close(ready) }, func(m api.Message) error { got <- m; return nil })
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("the event stream never got ready")
	}
	sent, err := c.Send(ctx, task.ID, api.Send{Text: "over tcp"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m.ID != sent.ID || m.Text != "over tcp" {
			t.Errorf("event %+v, want the message sent (%s)", m, sent.ID)
		}
	case <-ctx.Done():
		t.Fatal("no event for the message sent")
	}
	if ms, err := c.Messages(ctx, task.ID, 10, ""); err != nil || textCounts(ms)["over tcp"] != 1 {
		t.Errorf("Messages: %+v %v", ms, err)
	}
	if in, err := c.Invite(ctx, task.ID); err != nil || !strings.HasPrefix(in.Code, "folio1-") {
		t.Errorf("Invite: %+v %v", in, err)
	}
	var bobs api.Task
	if err := json.Unmarshal([]byte(mustFolio(t, "task", "new", "bobs", "--dir", dirB, "--json")), &bobs); err != nil {
		t.Fatal(err)
	}
	code := strings.TrimSpace(mustFolio(t, "invite", bobs.ID, "--dir", dirB))
	if joined, err := c.Join(ctx, code); err != nil || joined.ID != bobs.ID {
		t.Errorf("Join: %+v %v, want %s", joined, err, bobs.ID)
	}
	var out strings.Builder
	if exit, err := c.Devtools(ctx, []string{"books"}, &out); err != nil || exit != 0 || out.Len() == 0 {
		t.Errorf("Devtools books: exit %d, %v, output %q", exit, err, out.String())
	}

	// The Unix socket, while TCP is served.
	mustFolio(t, "send", "trip", "over the socket", "--dir", dirA)
	if n := textCounts(logJSON(t, dirA, "trip")); n["over tcp"] != 1 || n["over the socket"] != 1 {
		t.Errorf("log over the socket: %v", n)
	}
	if list := mustFolio(t, "task", "list", "--dir", dirA); !strings.Contains(list, "trip") || !strings.Contains(list, "bobs") {
		t.Errorf("task list over the socket: %s", list)
	}
	for _, books := range []string{out.String(), mustFolio(t, "devtools", "books", "--dir", dirA)} {
		if !strings.Contains(books, "private/messenger") || !strings.Contains(books, "5 books") {
			t.Errorf("devtools books (over TCP, then over the socket): %s", books)
		}
	}
}

// TestHTTPNotLoopback: folio run refuses to serve the API on anything
// but loopback, says what to use instead, and makes nothing.
func TestHTTPNotLoopback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ana")
	mustFolio(t, "init", "--dir", dir, "--name", "ana")
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0", "192.168.1.10:7878", "example.com:7878", "127.0.0.1"} {
		r := folio(t, "run", "--dir", dir, "--http", addr, "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--no-dht")
		if r.code != 2 || !strings.Contains(r.stderr, addr) || !strings.Contains(r.stderr, "127.0.0.1:PORT") {
			t.Errorf("%s", r)
		}
	}
	for _, name := range []string{api.TokenName, api.SocketName} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after refused runs: %v, want none", name, err)
		}
	}

	a := openAPIPeer(t, "bob")
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0", "10.0.0.1:0", "localhost.example:0", "[fe80::1%lo]:0", ""} {
		if got, err := a.srv.ListenTCP(addr); !errors.Is(err, ErrNotLoopback) || !strings.Contains(err.Error(), addr) {
			t.Errorf("ListenTCP(%q): %q %v, want ErrNotLoopback naming it", addr, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(a.dir, api.TokenName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a token after refused listens: %v", err)
	}
	for addr, want := range map[string]string{"localhost:0": "127.0.0.1:", "LOCALHOST:0": "127.0.0.1:", "127.0.0.1:0": "127.0.0.1:", "127.1.2.3:0": "127.1.2.3:"} {
		if got, err := a.srv.ListenTCP(addr); err != nil || !strings.HasPrefix(got, want) {
			t.Errorf("ListenTCP(%q): %q %v, want %s…", addr, got, err, want)
		}
	}
	if got, err := loopbackListen("[::1]:7878"); err != nil || got != "[::1]:7878" {
		t.Errorf("loopbackListen([::1]:7878): %q %v", got, err)
	}
}
