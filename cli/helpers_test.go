package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/folio-p2p/folio/api"
)

// The folio binary, built once for the tests that run it as OS processes.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// folioBin builds cmd/folio (once per test binary) and returns its path.
func folioBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			binErr = fmt.Errorf("go env GOMOD: %v", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		if binDir, binErr = os.MkdirTemp("", "folio-cli-test-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "folio")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/folio")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/folio: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// testEnv is the environment of the folio processes: FOLIO_DIR points
// nowhere, so that a command missing its --dir fails instead of touching
// the user's vault.
func testEnv() []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FOLIO_DIR=") {
			env = append(env, kv)
		}
	}
	return append(env, "FOLIO_DIR=/nonexistent/folio-test-no-vault")
}

// result is how a folio process ended.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("folio %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runFolio runs the binary to its end (2 minutes at most). It is safe
// to call from any goroutine.
func runFolio(args ...string) (result, error) {
	bin := binPath
	if bin == "" {
		return result{}, errors.New("folio binary not built")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, onLoopback(args)...)
	cmd.Env = testEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("still running after 2 minutes\n%s", r)
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		return r, fmt.Errorf("folio %s: %v", strings.Join(args, " "), err)
	}
	return r, nil
}

// folio runs the binary to its end.
func folio(t testing.TB, args ...string) result {
	t.Helper()
	folioBin(t)
	r, err := runFolio(args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustFolio runs the binary and fails the test unless it exits 0.
func mustFolio(t testing.TB, args ...string) string {
	t.Helper()
	r := folio(t, args...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	return r.stdout
}

// syncBuffer collects a daemon's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// daemon is a `folio run` process.
type daemon struct {
	dir  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has ended
	err  error         // its Wait error, once done
}

// startDaemon runs `folio run` on dir (loopback, no mDNS, no DHT, then
// the extra flags) and waits until its API answers. Cleanup kills it.
func startDaemon(t testing.TB, dir string, extra ...string) *daemon {
	t.Helper()
	d := &daemon{dir: dir, out: &syncBuffer{}, done: make(chan struct{})}
	args := append([]string{"run", "--dir", dir, "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--no-dht"}, extra...)
	d.cmd = exec.Command(folioBin(t), args...)
	d.cmd.Env = testEnv()
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(d.kill)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := api.Dial(ctx, dir)
		cancel()
		if err == nil {
			return d
		}
		select {
		case <-d.done:
			t.Fatalf("folio run --dir %s ended before serving its API: %v\n%s", dir, d.err, d.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("folio run --dir %s: no API after 60 s: %v\n%s", dir, err, d.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the daemon with SIGKILL and waits for it.
func (d *daemon) kill() {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Kill()
	<-d.done
}

// stop sends SIGTERM and returns the exit error (nil for exit 0).
func (d *daemon) stop(t testing.TB) error {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.done:
		return d.err
	case <-time.After(60 * time.Second):
		t.Fatalf("folio run --dir %s still running 60 s after SIGTERM\n%s", d.dir, d.out)
		return nil
	}
}

// pair is two vaults (ana's and bob's) with daemons, both members of one
// task that ana created.
type pair struct {
	dirA, dirB string
	a, b       *daemon
	task       api.Task
}

// startPair starts the pair's daemons with the extra flags of folio run.
func startPair(t testing.TB, extra ...string) *pair {
	t.Helper()
	root := t.TempDir()
	p := &pair{dirA: filepath.Join(root, "a"), dirB: filepath.Join(root, "b")}
	mustFolio(t, "init", "--dir", p.dirA, "--name", "ana")
	mustFolio(t, "init", "--dir", p.dirB, "--name", "bob")
	p.a = startDaemon(t, p.dirA, extra...)
	p.b = startDaemon(t, p.dirB, extra...)
	out := mustFolio(t, "task", "new", "trip", "--dir", p.dirA, "--json")
	if err := json.Unmarshal([]byte(out), &p.task); err != nil {
		t.Fatalf("task new --json: %v\n%s", err, out)
	}
	if p.task.Title != "trip" || len(p.task.ID) < 8 {
		t.Fatalf("task new --json: %+v", p.task)
	}
	code := strings.TrimSpace(mustFolio(t, "invite", p.task.ID, "--dir", p.dirA))
	if !strings.HasPrefix(code, "folio1-") || strings.Contains(code, "\n") {
		t.Fatalf("invite printed %q, want one folio1- code", code)
	}
	out = mustFolio(t, "join", code, "--dir", p.dirB)
	if !strings.Contains(out, p.task.ID) {
		t.Fatalf("join printed %q, want the task ID %s", out, p.task.ID)
	}
	return p
}

// logJSON is `folio log TASK --json --limit 1000` on dir.
func logJSON(t testing.TB, dir, task string) []api.Message {
	t.Helper()
	out := mustFolio(t, "log", task, "--dir", dir, "--json", "--limit", "1000")
	var ms []api.Message
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("log --json: %v\n%s", err, out)
	}
	return ms
}

// waitFor polls cond until it holds, failing after timeout with what
// the last call said.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v; last: %s", what, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// textCounts counts the messages of type text or reply by text.
func textCounts(ms []api.Message) map[string]int {
	n := map[string]int{}
	for _, m := range ms {
		if m.Type == "text" || m.Type == "reply" {
			n[m.Text]++
		}
	}
	return n
}
