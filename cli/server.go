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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/devtools"
	"github.com/folio-p2p/folio/peer"
)

// Server is the local API of a running peer.
type Server struct {
	p       *peer.Peer
	inspect Inspector
	dir     string
	env     *devtools.Env
	mux     *http.ServeMux
	srv     *http.Server
	ln      []net.Listener
	closed  chan struct{}
	close   sync.Once
	sock    string                 // the Unix socket this server created, removed by Close
	token   string                 // the credential on TCP (api.TokenName), set before serving TCP
	http    atomic.Pointer[string] // the TCP address served, for GET /v1/id (folio open)
}

// Inspector runs one `folio devtools` command on a live peer
// (devtools.RunInspector).
type Inspector func(ctx context.Context, env *devtools.Env, args []string, stdout, stderr io.Writer) int

// NewServer serves p's API. inspect and env serve POST /v1/devtools; both
// may be nil.
func NewServer(p *peer.Peer, dir string, inspect Inspector, env *devtools.Env) *Server {
	s := &Server{p: p, dir: dir, inspect: inspect, env: env, mux: http.NewServeMux(), closed: make(chan struct{})}
	s.mux.HandleFunc("GET /v1/id", s.id)
	s.mux.HandleFunc("GET /v1/tasks", s.tasks)
	s.mux.HandleFunc("POST /v1/tasks", s.newTask)
	s.mux.HandleFunc("POST /v1/tasks/{task}/invite", s.invite)
	s.mux.HandleFunc("POST /v1/join", s.join)
	s.mux.HandleFunc("GET /v1/tasks/{task}/messages", s.messages)
	s.mux.HandleFunc("POST /v1/tasks/{task}/messages", s.send)
	s.mux.HandleFunc("GET /v1/tasks/{task}/events", s.events)
	s.mux.HandleFunc("POST /v1/devtools", s.devtools)
	s.routeVerbs()
	s.routeWeb()
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout: readTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}
	return s
}

// ListenUnix serves on the vault's socket, owner-only. A stale socket
// left by a killed daemon is replaced; a live one is an error.
func (s *Server) ListenUnix(ctx context.Context) (string, error) {
	sock := filepath.Join(s.dir, api.SocketName)
	if _, err := os.Stat(sock); err == nil {
		if _, err := api.Dial(ctx, s.dir); err == nil {
			return "", fmt.Errorf("another folio peer already serves %s", sock)
		}
		os.Remove(sock)
	}
	old := umask(0o077) // the socket is created 0600
	ln, err := net.Listen("unix", sock)
	umask(old)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return "", err
	}
	s.sock = sock
	s.serve(ln)
	return sock, nil
}

// ListenTCP also serves on addr, which must be loopback (127.0.0.1:PORT,
// [::1]:PORT, localhost:PORT; else ErrNotLoopback). Requests on TCP need
// the vault's API token, made here if there is none (see guard).
func (s *Server) ListenTCP(addr string) (string, error) {
	laddr, err := loopbackListen(addr)
	if err != nil {
		return "", err
	}
	tok, err := ensureToken(s.dir)
	if err != nil {
		return "", fmt.Errorf("the API token: %w", err)
	}
	if s.token == "" {
		s.token = tok
	}
	ln, err := net.Listen("tcp", laddr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.serve(ln)
	a := ln.Addr().String()
	s.http.CompareAndSwap(nil, &a)
	return ln.Addr().String(), nil
}

func (s *Server) serve(ln net.Listener) {
	s.ln = append(s.ln, ln)
	go s.srv.Serve(ln)
}

// Close stops serving (ending live streams) and removes the socket. Only
// the first call does anything.
func (s *Server) Close() error {
	first := false
	s.close.Do(func() { first = true })
	if !first {
		return nil
	}
	close(s.closed)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	if s.sock != "" {
		os.Remove(s.sock)
	}
	return nil
}

// Handler is the API's HTTP handler: on TCP the guard first, then the
// routes, with the mux's own 404 (no such endpoint) and 405 (wrong
// method) answered in JSON too, then the body's type and size.
func (s *Server) Handler() http.Handler {
	return s.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.mux.Handler(r); pattern == "" {
			// No route: ask the mux which error it is (404 or 405, with
			// its Allow header), then answer in JSON.
			rec := &statusOnly{header: http.Header{}}
			s.mux.ServeHTTP(rec, r)
			for k, v := range rec.header {
				if k == "Allow" {
					w.Header()[k] = v
				}
			}
			msg := fmt.Errorf("no such endpoint: %s %s", r.Method, r.URL.Path)
			if rec.code == http.StatusMethodNotAllowed {
				msg = fmt.Errorf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow"))
			}
			writeErr(w, rec.code, msg)
			return
		}
		if bodyOK(w, r) {
			s.mux.ServeHTTP(w, r)
		}
	}))
}

// statusOnly records the status and headers of the mux's error answers.
type statusOnly struct {
	header http.Header
	code   int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.code = code }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, api.Error{Error: plain(err)})
}

// fail maps an error to its status: the caller's mistakes are 4xx.
func fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, peer.ErrNoTask), errors.Is(err, peer.ErrNoMessage):
		code = http.StatusNotFound
	case errors.Is(err, peer.ErrInvalid), errors.Is(err, peer.ErrBadCode):
		code = http.StatusBadRequest
	case errors.Is(err, peer.ErrNotAuthor), errors.Is(err, peer.ErrInviteRefused):
		code = http.StatusForbidden
	case errors.Is(err, errAlready):
		code = http.StatusConflict
	case errors.Is(err, peer.ErrKeyReused):
		code = http.StatusUnprocessableEntity
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusGatewayTimeout
	}
	writeErr(w, code, err)
}

func (s *Server) id(w http.ResponseWriter, r *http.Request) {
	out := api.ID{ID: s.p.ID().String(), Name: s.p.Name(r.Context(), s.p.ID()), Dir: s.dir}
	if a := s.http.Load(); a != nil {
		out.HTTP = *a
	}
	for _, a := range s.p.Vault().Host().Addrs() {
		out.Addrs = append(out.Addrs, a.String()+"/p2p/"+s.p.ID().String())
	}
	writeJSON(w, 200, out)
}

func (s *Server) tasks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, opTasks(r.Context(), s.p))
}

func (s *Server) newTask(w http.ResponseWriter, r *http.Request) {
	var in api.NewTask
	if !decode(w, r, &in) {
		return
	}
	if strings.TrimSpace(in.Title) == "" {
		writeErr(w, http.StatusBadRequest, errors.New("missing field: title"))
		return
	}
	t, err := opNewTask(r.Context(), s.p, in)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request) {
	in, err := opInvite(r.Context(), s.p, r.PathValue("task"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, in)
}

func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	var in api.Join
	if !decode(w, r, &in) {
		return
	}
	if in.Code == "" {
		writeErr(w, http.StatusBadRequest, errors.New("missing field: code"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
	defer cancel()
	t, err := opJoin(ctx, s.p, in.Code)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, 200, t)
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("bad limit %q", v))
			return
		}
		limit = n
	}
	ms, err := opMessages(r.Context(), s.p, r.PathValue("task"), limit, r.URL.Query().Get("before"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, 200, ms)
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	var in api.Send
	if !decode(w, r, &in) {
		return
	}
	if in.Text == "" && in.Type != "delete" {
		writeErr(w, http.StatusBadRequest, errors.New("missing field: text"))
		return
	}
	// The Idempotency-Key header (a structured-field string: quotes
	// optional) may carry the key instead of the body.
	if h := strings.Trim(r.Header.Get("Idempotency-Key"), `"`); h != "" {
		if in.IdempotencyKey != "" && in.IdempotencyKey != h {
			writeErr(w, http.StatusBadRequest, errors.New("the Idempotency-Key header and idempotency_key differ"))
			return
		}
		in.IdempotencyKey = h
	}
	m, again, err := opSend(r.Context(), s.p, r.PathValue("task"), in)
	if err != nil {
		fail(w, err)
		return
	}
	code := http.StatusCreated
	if again {
		code = http.StatusOK // a retry: the message written before
	}
	writeJSON(w, code, m)
}

// events streams new messages as Server-Sent Events. Every event's id
// is the stream's position after it; ?after=POS or the Last-Event-ID
// header resumes there (what was missed first, then live). A reader that
// falls behind gets an event "lagged" (api.Lagged: where to resume) and
// the stream ends.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	task := r.PathValue("task")
	after := r.URL.Query().Get("after")
	if after == "" {
		after = r.Header.Get("Last-Event-ID")
	}
	w = s.streaming(w)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	fl, _ := w.(http.Flusher)
	flush := func() {
		if fl != nil {
			fl.Flush()
		}
	}
	started := false
	// ": ready" tells the client that nothing sent from now on is missed.
	ready := func(pos string) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(200)
		started = true
		fmt.Fprintf(w, "id: %s\n: ready\n\n", pos)
		flush()
	}
	err := opStream(ctx, s.p, task, after, ready, func(m api.Message, pos string) error {
		b, _ := json.Marshal(m)
		if _, err := fmt.Fprintf(w, "id: %s\nevent: message\ndata: %s\n\n", pos, b); err != nil {
			return err
		}
		flush()
		return nil
	})
	var lag *lagged
	switch {
	case errors.As(err, &lag):
		b, _ := json.Marshal(api.Lagged{After: lag.after, Error: lag.Error()})
		fmt.Fprintf(w, "id: %s\nevent: lagged\ndata: %s\n\n", lag.after, b)
		flush()
	case err != nil && !started:
		fail(w, err) // no such task, a bad or future position
	}
}

// devtools runs the inspector on the live peer, streaming its output.
func (s *Server) devtools(w http.ResponseWriter, r *http.Request) {
	var in api.Devtools
	if !decode(w, r, &in) {
		return
	}
	if s.env == nil || s.inspect == nil {
		writeErr(w, http.StatusNotImplemented, errors.New("this peer serves no inspector"))
		return
	}
	w = s.streaming(w)
	w.Header().Set("Trailer", "X-Folio-Exit")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(200)
	fw := flushWriter{w}
	code := s.inspect(r.Context(), s.env, in.Args, fw, fw)
	w.Header().Set("X-Folio-Exit", strconv.Itoa(code))
}

// flushWriter flushes after every write, so that watch streams.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}
