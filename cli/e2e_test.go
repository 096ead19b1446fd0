package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/folio-p2p/folio/api"
)

// sendAll runs `folio send TASK TEXT --dir DIR` once per text, in order,
// as separate processes; the first failure ends it.
func sendAll(dir, task string, texts []string, after func(i int)) error {
	for i, text := range texts {
		r, err := runFolio("send", task, text, "--dir", dir)
		if err != nil {
			return err
		}
		if r.code != 0 || !strings.Contains(r.stdout, "/") {
			return fmt.Errorf("send %q: %s", text, r)
		}
		if after != nil {
			after(i)
		}
	}
	return nil
}

func texts(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// waitConverged waits until `folio log --json` is the same on both sides
// and holds every text of want exactly once; it returns the log.
func waitConverged(t *testing.T, p *pair, want []string, timeout time.Duration) []api.Message {
	t.Helper()
	var la []api.Message
	waitFor(t, timeout, "both logs equal, every message once", func() (bool, string) {
		la = logJSON(t, p.dirA, p.task.ID)
		lb := logJSON(t, p.dirB, p.task.ID)
		for side, l := range map[string][]api.Message{"ana": la, "bob": lb} {
			n := textCounts(l)
			for _, w := range want {
				if n[w] != 1 {
					return false, fmt.Sprintf("%s's log has %q %d times (%d messages)", side, w, n[w], len(l))
				}
			}
		}
		if !reflect.DeepEqual(la, lb) {
			return false, firstDiff(la, lb)
		}
		return true, ""
	})
	return la
}

func firstDiff(a, b []api.Message) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Sprintf("entry %d: ana's %+v, bob's %+v", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("ana's log has %d entries, bob's %d", len(a), len(b))
}

// checkAuthorOrder checks that each author's messages come in the order of
// their indexes, and that every ID appears once.
func checkAuthorOrder(t *testing.T, ms []api.Message) {
	t.Helper()
	last := map[string]uint64{}
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.ID] {
			t.Errorf("message %s appears twice in the log", m.ID)
		}
		seen[m.ID] = true
		if l, ok := last[m.Author]; ok && m.Index <= l {
			t.Errorf("%s's message %d comes after its message %d", m.Name, m.Index, l)
		}
		last[m.Author] = m.Index
	}
}

// TestTwoDaemons runs two peers as `folio run` processes on loopback: they
// meet through an invite, exchange 100 messages each way (one `folio send`
// process per message) and end up with equal logs; then bob's daemon is
// killed with SIGKILL in the middle of ana's messages, restarted on another
// port, and catches up with nothing lost or duplicated.
func TestTwoDaemons(t *testing.T) {
	p := startPair(t)

	// 100 messages each way, both senders at once.
	fromA, fromB := texts("ana", 100), texts("bob", 100)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = sendAll(p.dirA, p.task.ID, fromA, nil) }()
	go func() { defer wg.Done(); errs[1] = sendAll(p.dirB, p.task.ID, fromB, nil) }()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{}, fromA...), fromB...)
	log := waitConverged(t, p, want, 90*time.Second)
	checkAuthorOrder(t, log)
	if log[0].Type != "task" || log[0].Text != "trip" {
		t.Errorf("the log starts with %+v, want the task's title", log[0])
	}
	joined := false
	for _, m := range log {
		if m.Type == "join" && m.MemberName == "bob" {
			joined = true
		}
	}
	if !joined {
		t.Errorf("no join message for bob in the log")
	}

	// Kill bob's daemon after 20 of ana's next 50 messages; ana goes on.
	more := texts("more", 50)
	if err := sendAll(p.dirA, p.task.ID, more, func(i int) {
		if i == 19 {
			p.b.cmd.Process.Kill()
			<-p.b.done
		}
	}); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if !errors.As(p.b.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("bob's daemon ended with %v, want killed by SIGKILL", p.b.err)
	}
	// Its socket is left behind; the restarted daemon replaces it.
	if _, err := os.Stat(filepath.Join(p.dirB, api.SocketName)); err != nil {
		t.Errorf("no stale socket after SIGKILL: %v", err)
	}
	p.b = startDaemon(t, p.dirB)
	after := texts("back", 5)
	if err := sendAll(p.dirB, p.task.ID, after, nil); err != nil {
		t.Fatal(err)
	}
	want = append(append(want, more...), after...)
	log = waitConverged(t, p, want, 90*time.Second)
	checkAuthorOrder(t, log)
	if n := len(textCounts(log)); n != len(want) {
		t.Errorf("the log has %d distinct texts, want %d", n, len(want))
	}

	// Both stop cleanly on a signal: exit 0, socket removed.
	for _, d := range []*daemon{p.a, p.b} {
		if err := d.stop(t); err != nil {
			t.Errorf("folio run --dir %s after SIGTERM: %v\n%s", d.dir, err, d.out)
		}
		if _, err := os.Stat(filepath.Join(d.dir, api.SocketName)); !os.IsNotExist(err) {
			t.Errorf("%s: the API socket is still there after a clean stop (%v)", d.dir, err)
		}
		if !strings.Contains(d.out.String(), "stopping") {
			t.Errorf("%s: the daemon did not say it was stopping:\n%s", d.dir, d.out)
		}
	}
}

// TestWithoutDaemon: with no daemon running, the commands open the vault
// themselves.
func TestWithoutDaemon(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", dir, "--name", "cleo")
	out := mustFolio(t, "id", "--dir", dir)
	if !strings.Contains(out, "12D3Koo") || !strings.Contains(out, "(cleo)") {
		t.Errorf("folio id printed %q, want the peer ID and the name", out)
	}
	out = mustFolio(t, "task", "new", "notes", "--dir", dir)
	id, title, _ := strings.Cut(strings.TrimSpace(out), "  ")
	if title != "notes" || len(id) < 8 {
		t.Fatalf("task new printed %q", out)
	}
	mustFolio(t, "send", "notes", "first", "--dir", dir)
	mid := strings.TrimSpace(mustFolio(t, "send", id[:8], "second", "--dir", dir))
	mustFolio(t, "send", id, "third", "--dir", dir, "--reply", mid)
	out = mustFolio(t, "task", "list", "--dir", dir)
	if !strings.Contains(out, id[:8]) || !strings.Contains(out, "notes") {
		t.Errorf("task list printed %q", out)
	}
	ms := logJSON(t, dir, id)
	var got []string
	for _, m := range ms {
		if m.Type == "text" || m.Type == "reply" {
			got = append(got, m.Text)
		}
	}
	if strings.Join(got, ",") != "first,second,third" {
		t.Errorf("log --json texts %q, want first, second, third", got)
	}
	if last := ms[len(ms)-1]; last.Ref != mid || last.Type != "reply" {
		t.Errorf("the last message is %+v, want a reply to %s", last, mid)
	}
	out = mustFolio(t, "log", "notes", "--dir", dir, "--limit", "2")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "cleo: second") || !strings.Contains(lines[1], "third") {
		t.Errorf("log --limit 2 printed %q, want the last two messages", out)
	}
}
