package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNoDaemon: no peer is running for this vault (no socket, or nobody
// answers on it).
var ErrNoDaemon = errors.New("api: no running folio peer for this vault")

// StatusError is an error response of the API.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string { return e.Message }

// Client talks to a running peer.
type Client struct {
	hc    *http.Client
	base  string
	token string // sent as a Bearer credential when not ""
}

// Dial returns a client for the peer running on the vault in dir, or
// ErrNoDaemon.
func Dial(ctx context.Context, dir string) (*Client, error) {
	sock := filepath.Join(dir, SocketName)
	if _, err := os.Stat(sock); err != nil {
		return nil, ErrNoDaemon
	}
	c := &Client{base: "http://folio", hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}}
	if _, err := c.ID(ctx); err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, ErrNoDaemon
	}
	return c, nil
}

// NewHTTP returns a client for an API served on TCP (addr
// "127.0.0.1:PORT") that sends token (see ReadToken) with every request.
func NewHTTP(addr, token string) *Client {
	return &Client{base: "http://" + addr, hc: &http.Client{}, token: token}
}

// NewHTTPDir is NewHTTP with the token of the vault in dir.
func NewHTTPDir(addr, dir string) (*Client, error) {
	tok, err := ReadToken(dir)
	if err != nil {
		return nil, err
	}
	return NewHTTP(addr, tok), nil
}

// request is a request to path with the credential and, when in is not
// nil, in as its JSON body.
func (c *Client) request(ctx context.Context, method, path string, in any) (*http.Request, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	req, err := c.request(ctx, method, path, in)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return &StatusError{Code: resp.StatusCode, Message: e.Error}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// ID describes the peer.
func (c *Client) ID(ctx context.Context) (*ID, error) {
	var id ID
	return &id, c.do(ctx, "GET", "/v1/id", nil, &id)
}

// Tasks lists tasks.
func (c *Client) Tasks(ctx context.Context) ([]Task, error) {
	var ts []Task
	return ts, c.do(ctx, "GET", "/v1/tasks", nil, &ts)
}

// NewTask creates a task.
func (c *Client) NewTask(ctx context.Context, t NewTask) (*Task, error) {
	var out Task
	return &out, c.do(ctx, "POST", "/v1/tasks", t, &out)
}

// Invite makes an invite code for task.
func (c *Client) Invite(ctx context.Context, task string) (*Invite, error) {
	var out Invite
	return &out, c.do(ctx, "POST", "/v1/tasks/"+url.PathEscape(task)+"/invite", nil, &out)
}

// Join uses an invite code.
func (c *Client) Join(ctx context.Context, code string) (*Task, error) {
	var out Task
	return &out, c.do(ctx, "POST", "/v1/join", Join{Code: code}, &out)
}

// Send writes a message to task.
func (c *Client) Send(ctx context.Context, task string, s Send) (*Message, error) {
	var out Message
	return &out, c.do(ctx, "POST", "/v1/tasks/"+url.PathEscape(task)+"/messages", s, &out)
}

// Messages returns a page of task's timeline (oldest first); before is
// the ID of the oldest message of the previous page, or "".
func (c *Client) Messages(ctx context.Context, task string, limit int, before string) ([]Message, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if before != "" {
		q.Set("before", before)
	}
	var out []Message
	return out, c.do(ctx, "GET", "/v1/tasks/"+url.PathEscape(task)+"/messages?"+q.Encode(), nil, &out)
}

// Follow calls f for each new message of task until ctx ends or f returns
// an error.
func (c *Client) Follow(ctx context.Context, task string, f func(Message) error) error {
	return c.FollowReady(ctx, task, nil, f)
}

// FollowReady is Follow that also calls ready (if not nil) once the
// subscription is live: no message sent after that is missed. A reader
// that falls behind (the stream ends with "lagged") is resumed where it
// was, so it misses nothing and sees nothing twice.
func (c *Client) FollowReady(ctx context.Context, task string, ready func(), f func(Message) error) error {
	after := ""
	for {
		err := c.FollowFrom(ctx, task, after, ready, f)
		var lag *LaggedError
		if !errors.As(err, &lag) {
			return err
		}
		after, ready = lag.After, nil
	}
}

// ErrLagged: a stream ended because its reader fell behind.
var ErrLagged = errors.New("api: the stream's reader fell behind")

// LaggedError ends FollowFrom when its reader fell behind; After is
// where to resume. errors.Is(err, ErrLagged) holds.
type LaggedError struct {
	After  string
	Reason string
}

func (e *LaggedError) Error() string {
	return fmt.Sprintf("%v: %s (resume after %s)", ErrLagged, e.Reason, e.After)
}

func (e *LaggedError) Is(target error) bool { return target == ErrLagged }

// FollowFrom is one stream of FollowReady, from the position after (an
// event's id; "" for only new messages). It ends with a *LaggedError when
// its reader fell behind.
func (c *Client) FollowFrom(ctx context.Context, task, after string, ready func(), f func(Message) error) error {
	q := ""
	if after != "" {
		q = "?" + url.Values{"after": {after}}.Encode()
	}
	req, err := c.request(ctx, "GET", "/v1/tasks/"+url.PathEscape(task)+"/events"+q, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e Error
		json.NewDecoder(resp.Body).Decode(&e)
		return &StatusError{Code: resp.StatusCode, Message: e.Error}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	event := "message"
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == ": ready" && ready != nil:
			ready()
			ready = nil
		case line == "":
			event = "message"
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: ") && event == "lagged":
			var l Lagged
			if err := json.Unmarshal([]byte(line[len("data: "):]), &l); err != nil || l.After == "" {
				return fmt.Errorf("api: bad lagged event: %q", line)
			}
			return &LaggedError{After: l.After, Reason: l.Error}
		case strings.HasPrefix(line, "data: "):
			var m Message
			if err := json.Unmarshal([]byte(line[len("data: "):]), &m); err != nil {
				return fmt.Errorf("api: bad event: %w", err)
			}
			if err := f(m); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sc.Err()
}

// Devtools runs an inspector command in the daemon and copies its output
// (streamed) to w. The inspector's exit code comes back in the
// X-Folio-Exit trailer.
func (c *Client) Devtools(ctx context.Context, args []string, w io.Writer) (int, error) {
	req, err := c.request(ctx, "POST", "/v1/devtools", Devtools{Args: args})
	if err != nil {
		return 1, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 1, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e Error
		json.NewDecoder(resp.Body).Decode(&e)
		return 1, &StatusError{Code: resp.StatusCode, Message: e.Error}
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return 1, err
	}
	code, err := strconv.Atoi(resp.Trailer.Get("X-Folio-Exit"))
	if err != nil {
		return 1, fmt.Errorf("api: devtools: no exit code")
	}
	return code, nil
}
