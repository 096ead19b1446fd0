package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/devtools"
)

// TestAPIStreamDeadlines: the server's timeouts cut off a client that is
// slow to send, but not the streams (SSE, devtools output), which live
// past them, on the Unix socket and on TCP.
func TestAPIStreamDeadlines(t *testing.T) {
	const short = 200 * time.Millisecond
	// An inspector command that writes, waits past the timeouts, writes.
	inspect := func(ctx context.Context, _ *devtools.Env, _ []string, stdout, _ io.Writer) int {
		fmt.Fprintln(stdout, "first")
		select {
		case <-time.After(5 * short):
		case <-ctx.Done():
			return 3
		}
		fmt.Fprintln(stdout, "second")
		return 0
	}
	a := openAPIPeer(t, "ana", func(s *Server) {
		s.srv.ReadHeaderTimeout, s.srv.ReadTimeout, s.srv.WriteTimeout = short, short, short
		s.inspect, s.env = inspect, &devtools.Env{}
	})
	addr, tc := a.listenTCP(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for name, c := range map[string]*api.Client{"unix": a.c, "tcp": tc} {
		var out strings.Builder
		if code, err := c.Devtools(ctx, nil, &out); err != nil || code != 0 || out.String() != "first\nsecond\n" {
			t.Errorf("%s: devtools past the timeouts: exit %d, %v, output %q", name, code, err, out.String())
		}
		task, err := c.NewTask(ctx, api.NewTask{Title: name})
		if err != nil {
			t.Fatal(err)
		}
		got, ready, done := make(chan api.Message, 4), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- c.FollowReady(ctx, task.ID, func() { close(ready) }, func(m api.Message) error { got <- m; return nil })
		}()
		<-ready
		time.Sleep(5 * short) // nothing to send: past both timeouts
		if _, err := c.Send(ctx, task.ID, api.Send{Text: "late"}); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m.Text != "late" {
				t.Errorf("%s: event %+v, want the late message", name, m)
			}
		case err := <-done:
			t.Errorf("%s: the event stream ended before the late message: %v", name, err)
		case <-ctx.Done():
			t.Errorf("%s: no event for the late message", name)
		}
	}

	// A client that never finishes its headers is cut off.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /v1/id HTTP/1.1\r\nHost: %s\r\n", addr)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("a client stuck in its headers still connected after 30 s")
		}
	}
}

// TestAPIServerTimeouts: the real server bounds every phase, and gives a
// join (60 s at most) time to answer before its context would end.
func TestAPIServerTimeouts(t *testing.T) {
	s := NewServer(nil, t.TempDir(), nil, nil)
	if s.srv.ReadHeaderTimeout <= 0 || s.srv.IdleTimeout <= 0 {
		t.Errorf("ReadHeaderTimeout %v, IdleTimeout %v: want both set", s.srv.ReadHeaderTimeout, s.srv.IdleTimeout)
	}
	if s.srv.ReadTimeout <= 60*time.Second || s.srv.WriteTimeout <= 60*time.Second {
		t.Errorf("ReadTimeout %v, WriteTimeout %v: want both set, above a join's 60 s", s.srv.ReadTimeout, s.srv.WriteTimeout)
	}
}
