package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/api"
)

// apiPair is ana and bob, each serving its API on its socket, both
// members of ana's task title.
func apiPair(t *testing.T, ctx context.Context, title string) (ana, bob *apiPeer, task *api.Task) {
	t.Helper()
	ana, bob = openAPIPeer(t, "ana"), openAPIPeer(t, "bob")
	task, err := ana.c.NewTask(ctx, api.NewTask{Title: title})
	if err != nil {
		t.Fatal(err)
	}
	in, err := ana.c.Invite(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	jctx, jcancel := context.WithTimeout(ctx, 60*time.Second)
	defer jcancel()
	if _, err := bob.c.Join(jctx, in.Code); err != nil {
		t.Fatal(err)
	}
	return ana, bob, task
}

// sseEvent is one Server-Sent Event as a raw client reads it.
type sseEvent struct{ id, event, data string }

// rawStream is an SSE request on a fresh connection to the socket, read
// only when the test says so.
type rawStream struct {
	conn net.Conn
	resp *http.Response
	rd   *bufio.Reader
}

// openStream sends GET path with header hdr (may be nil) and reads up to
// the ": ready" marker; after that it reads nothing until told.
func openStream(t *testing.T, dir, path string, hdr http.Header) *rawStream {
	t.Helper()
	conn, err := net.Dial("unix", filepath.Join(dir, api.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A small receive buffer, so that the daemon feels the stall soon.
	conn.(*net.UnixConn).SetReadBuffer(4 << 10)
	req, _ := http.NewRequest("GET", "http://folio"+path, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	s := &rawStream{conn: conn, resp: resp, rd: bufio.NewReaderSize(resp.Body, 1<<20)}
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			t.Fatalf("GET %s: no ready marker: %v", path, err)
		}
		if line == ": ready\n" {
			return s
		}
	}
}

// next reads the next event; ok is false at the end of the stream.
func (s *rawStream) next() (ev sseEvent, ok bool) {
	s.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			return ev, false
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && ev.data != "":
			return ev, true
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

// heapAfterGC is the live heap, in bytes.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// sendMany sends n padded texts "<prefix>-NNNN …" through the API and
// returns their IDs in order and each send's latency.
func sendMany(t *testing.T, ctx context.Context, c *api.Client, task, prefix string, n int) ([]string, []time.Duration) {
	t.Helper()
	pad := strings.Repeat("x", 8<<10)
	var ids []string
	var lat []time.Duration
	for i := range n {
		t0 := time.Now()
		m, err := c.Send(ctx, task, api.Send{Text: fmt.Sprintf("%s-%04d %s", prefix, i, pad)})
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		lat = append(lat, time.Since(t0))
		ids = append(ids, m.ID)
	}
	return ids, lat
}

func percentile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(q*float64(len(s)-1))]
}

// TestAPIStalledSubscribers: SSE clients on the socket that stop reading
// cost the daemon bounded memory while 1,500 messages of 8 KiB are sent
// (the old per-subscriber queue kept all of them: 12 MB each); a healthy
// subscriber meanwhile gets every message in order and the sends go on;
// each stalled stream, read again, ends with "lagged" naming where to
// resume; resuming there (by ?after= or Last-Event-ID) gives the missed
// messages exactly once, in order, then live ones; api.Client.Follow
// does that by itself.
func TestAPIStalledSubscribers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ana, _, task := apiPair(t, ctx, "flood")
	const n, stalledN = 1500, 5
	// The same traffic once without stalled readers: the baseline of the
	// heap (books, caches) and of the send latency.
	_, calm := sendMany(t, ctx, ana.c, task.ID, "calm", n)
	base := heapAfterGC()

	var stalled []*rawStream
	for range stalledN {
		stalled = append(stalled, openStream(t, ana.dir, "/v1/tasks/"+task.ID+"/events", nil))
	}
	type result struct {
		ids []string
		err error
	}
	healthy := make(chan result, 1)
	hready := make(chan struct{})
	go func() {
		var r result
		r.err = ana.c.FollowFrom(ctx, task.ID, "", func() { close(hready) }, func(m api.Message) error {
			if r.ids = append(r.ids, m.ID); len(r.ids) == n {
				return errDone
			}
			return nil
		})
		healthy <- r
	}()
	<-hready
	// Two api.Client readers stuck in their first callback until the
	// sends are done: FollowFrom ends with ErrLagged, Follow resumes by
	// itself and misses nothing.
	unblock := make(chan struct{})
	slowFrom, slowFollow := make(chan error, 1), make(chan result, 1)
	fready, gready := make(chan struct{}), make(chan struct{})
	go func() {
		slowFrom <- ana.c.FollowFrom(ctx, task.ID, "", func() { close(fready) }, func(api.Message) error {
			<-unblock
			return nil
		})
	}()
	go func() {
		var r result
		r.err = ana.c.FollowReady(ctx, task.ID, func() { close(gready) }, func(m api.Message) error {
			<-unblock
			if r.ids = append(r.ids, m.ID); len(r.ids) == n {
				return errDone
			}
			return nil
		})
		slowFollow <- r
	}()
	<-fready
	<-gready
	ids, busy := sendMany(t, ctx, ana.c, task.ID, "busy", n)
	grown := int64(heapAfterGC()) - int64(base)
	t.Logf("heap: %.1f MB before, %+.1f MB with %d stalled streams after %d messages of 8 KiB",
		float64(base)/1e6, float64(grown)/1e6, stalledN, n)
	t.Logf("send latency p50/p99: %v/%v without, %v/%v with stalled streams",
		percentile(calm, 0.5), percentile(calm, 0.99), percentile(busy, 0.5), percentile(busy, 0.99))
	if grown > 16<<20 {
		t.Errorf("the heap grew %.1f MB with %d stalled streams, want under 16 MB", float64(grown)/1e6, stalledN)
	}
	close(unblock)
	r := <-healthy
	if r.err != errDone || !slices.Equal(r.ids, ids) {
		t.Fatalf("the healthy subscriber: %d messages, %v; want all %d in order", len(r.ids), r.err, n)
	}
	var lagErr *api.LaggedError
	if err := <-slowFrom; !errors.Is(err, api.ErrLagged) || !errors.As(err, &lagErr) || lagErr.After == "" {
		t.Errorf("a stuck FollowFrom ended with %v, want a LaggedError", err)
	}
	if r := <-slowFollow; r.err != errDone || !slices.Equal(r.ids, ids) {
		t.Errorf("a stuck Follow: %d messages, %v; want all %d in order", len(r.ids), r.err, n)
	}

	// Each stalled stream, read now: some messages in order, then
	// "lagged", then its end.
	for k, s := range stalled {
		var got []string
		var lag api.Lagged
		for {
			ev, ok := s.next()
			if !ok {
				t.Fatalf("stream %d ended after %d messages without lagged", k, len(got))
			}
			if ev.event == "lagged" {
				if err := json.Unmarshal([]byte(ev.data), &lag); err != nil || lag.After == "" || ev.id != lag.After || !strings.Contains(lag.Error, "behind") {
					t.Fatalf("stream %d: lagged event %+v: %v", k, ev, err)
				}
				break
			}
			var m api.Message
			if err := json.Unmarshal([]byte(ev.data), &m); err != nil || ev.event != "message" || ev.id == "" {
				t.Fatalf("stream %d: event %+v: %v", k, ev, err)
			}
			got = append(got, m.ID)
		}
		if !slices.Equal(got, ids[:len(got)]) {
			t.Fatalf("stream %d: %d messages before lagged, not the first ones sent", k, len(got))
		}
		if ev, ok := s.next(); ok {
			t.Fatalf("stream %d goes on after lagged: %+v", k, ev)
		}
		if k > 1 {
			continue
		}
		// Resume: stream 0 by ?after=, stream 1 by Last-Event-ID.
		path, hdr := "/v1/tasks/"+task.ID+"/events?after="+lag.After, http.Header(nil)
		if k == 1 {
			path, hdr = "/v1/tasks/"+task.ID+"/events", http.Header{"Last-Event-ID": {lag.After}}
		}
		res := openStream(t, ana.dir, path, hdr)
		live, err := ana.c.Send(ctx, task.ID, api.Send{Text: fmt.Sprintf("live-%d", k)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, live.ID) // the next stream missed it too
		want := slices.Clone(ids[len(got):])
		var rest []string
		for len(rest) < len(want) {
			ev, ok := res.next()
			if !ok || ev.event != "message" {
				t.Fatalf("resumed stream %d: %+v after %d of %d messages", k, ev, len(rest), len(want))
			}
			var m api.Message
			json.Unmarshal([]byte(ev.data), &m)
			rest = append(rest, m.ID)
		}
		if !slices.Equal(rest, want) {
			t.Fatalf("resumed stream %d: %d messages, not the %d missed and the live one in order", k, len(rest), len(want)-1)
		}
	}
}

var errDone = errors.New("done")

// TestAPIEventsBadPosition: a resume position that does not parse, or is
// ahead of the peer, is a 4xx JSON error and starts no stream.
func TestAPIEventsBadPosition(t *testing.T) {
	ana := openAPIPeer(t, "ana")
	task, err := ana.c.NewTask(context.Background(), api.NewTask{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	me := ana.p.ID().String()
	for _, after := range []string{"nonsense", me + "/x", me + "/999"} {
		if msg := ana.fails(t, 400, "GET", "/v1/tasks/"+task.ID+"/events?after="+after, ""); msg == "" {
			t.Errorf("after=%s: no error message", after)
		}
	}
	ana.fails(t, 404, "GET", "/v1/tasks/nosuchtask/events?after=0", "")
}
