package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPISendIdempotent: a send retried with its idempotency key (body or
// header) answers 200 with the same message and writes nothing; the same
// key with another text is 422, a bad key or a header that contradicts
// the body 400, and neither writes.
func TestAPISendIdempotent(t *testing.T) {
	ana := openAPIPeer(t, "ana")
	var task struct{ ID string }
	ana.ok(t, 201, "POST", "/v1/tasks", `{"title":"t"}`, &task)
	path := "/v1/tasks/" + task.ID + "/messages"
	var first, again struct{ ID, Text string }
	ana.ok(t, 201, "POST", path, `{"text":"hello","idempotency_key":"k1"}`, &first)
	ana.ok(t, 200, "POST", path, `{"text":"hello","idempotency_key":"k1"}`, &again)
	if again != first {
		t.Errorf("the retry answered %+v, want %+v", again, first)
	}
	// The header, quoted as a structured-field string or not.
	var byHeader []string
	for _, c := range []struct {
		code      int
		body, key string
	}{
		{201, `{"text":"by header"}`, `"k2"`},
		{200, `{"text":"by header"}`, `k2`},
		{200, `{"text":"by header","idempotency_key":"k2"}`, `"k2"`},
	} {
		var m struct{ ID string }
		code, b := ana.callHeader(t, path, c.body, c.key)
		if json.Unmarshal(b, &m); code != c.code || m.ID == "" {
			t.Fatalf("POST %s (Idempotency-Key %s): %d %s, want %d", c.body, c.key, code, b, c.code)
		}
		if byHeader = append(byHeader, m.ID); m.ID != byHeader[0] {
			t.Errorf("a retry by header answered %s, want %s", m.ID, byHeader[0])
		}
	}
	if msg := ana.fails(t, 422, "POST", path, `{"text":"hullo","idempotency_key":"k1"}`); !strings.Contains(msg, "idempotency key") {
		t.Errorf("key reused for another text: %q", msg)
	}
	ana.fails(t, 400, "POST", path, `{"text":"x","idempotency_key":"bad\nkey"}`)
	ana.fails(t, 400, "POST", path, `{"text":"x","idempotency_key":"`+strings.Repeat("k", 257)+`"}`)
	if code, b := ana.callHeader(t, path, `{"text":"x","idempotency_key":"k3"}`, "k4"); code != 400 {
		t.Errorf("header and body keys differ: %d %s, want 400", code, b)
	}
	var ms []struct{ Text string }
	ana.ok(t, 200, "GET", path, "", &ms)
	var texts []string
	for _, m := range ms {
		texts = append(texts, m.Text)
	}
	if got := strings.Join(texts, ","); got != "t,hello,by header" {
		t.Errorf("the timeline holds %q, want the task, hello and by header once each", got)
	}
}

// TestSendIdempotentAcrossKill: `folio send --idempotency-key` through a
// daemon, the daemon killed with SIGKILL, then the same command again,
// without a daemon and with a new one: the same ID each time and the
// message once; the key with another text is refused.
func TestSendIdempotentAcrossKill(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", dir, "--name", "dora")
	d := startDaemon(t, dir)
	mustFolio(t, "task", "new", "notes", "--dir", dir)
	send := []string{"send", "notes", "pay the rent", "--dir", dir, "--idempotency-key", "rent-2024-05"}
	id := strings.TrimSpace(mustFolio(t, send...))
	d.kill()
	if got := strings.TrimSpace(mustFolio(t, send...)); got != id {
		t.Errorf("retry without a daemon printed %q, want %q", got, id)
	}
	startDaemon(t, dir)
	if got := strings.TrimSpace(mustFolio(t, send...)); got != id {
		t.Errorf("retry through a new daemon printed %q, want %q", got, id)
	}
	r := folio(t, "send", "notes", "pay the gas", "--dir", dir, "--idempotency-key", "rent-2024-05")
	if r.code != 1 || !strings.Contains(r.stderr, "idempotency key") {
		t.Errorf("the key with another text: %s", r)
	}
	n := textCounts(logJSON(t, dir, "notes"))
	if n["pay the rent"] != 1 || n["pay the gas"] != 0 {
		t.Errorf("the log holds %v, want \"pay the rent\" once", n)
	}
}

// callHeader POSTs body to path with an Idempotency-Key header.
func (a *apiPeer) callHeader(t *testing.T, path, body, key string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://folio"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
