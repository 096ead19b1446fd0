//go:build unix

package db

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
)

// These tests run a second OS process: the test binary itself, re-executed
// with -test.run=^TestKillHelper$ and FOLIO_KILL_HELPER naming its job.

const killHelperEnv = "FOLIO_KILL_HELPER"

// TestKillHelper is the child process; it does nothing in a normal run.
func TestKillHelper(t *testing.T) {
	dir := os.Getenv("FOLIO_KILL_DIR")
	switch os.Getenv(killHelperEnv) {
	case "":
		t.Skip("helper process of TestKill9 and TestLockedAcrossProcesses")
	case "append":
		killHelperAppend(dir)
	case "append-async":
		killHelperAppendAsync(dir)
	case "open":
		d, err := Open(dir, nil)
		switch {
		case errors.Is(err, ErrLocked):
			fmt.Println("RESULT locked")
		case err != nil:
			fmt.Println("RESULT error", err)
		default:
			fmt.Println("RESULT opened")
			d.Close()
		}
	}
}

// killBatch is the size of the batch appended at length n: 1 to 3 pages,
// so the parent knows every batch boundary.
func killBatch(n uint64) int { return 1 + int(n%3) }

// killPage returns page i: its index, then filler of a size that varies.
func killPage(i uint64) []byte {
	p := fmt.Appendf(nil, "kill page %d:", i)
	for len(p) < 100+int(i*37%900) {
		p = append(p, byte(i*7+uint64(len(p))))
	}
	return p
}

// killHelperBook opens the helper's book, or exits.
func killHelperBook(ctx context.Context, dir string) *book.Book {
	d, err := Open(dir, nil)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	b, err := d.Book(ctx, "kill")
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	return b
}

// killHelperAppend appends synced batches until it is killed, printing
// every length an append returned.
func killHelperAppend(dir string) {
	ctx := context.Background()
	b := killHelperBook(ctx, dir)
	deadline := time.Now().Add(time.Minute) // in case the parent is gone
	for time.Now().Before(deadline) {
		n := b.Length()
		pages := make([][]byte, killBatch(n))
		for i := range pages {
			pages[i] = killPage(n + uint64(i))
		}
		res, err := b.Append(ctx, pages...)
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stdout, "LEN %d\n", res.Length) // unbuffered: one write
	}
	os.Exit(3)
}

// killHelperAppendAsync is killHelperAppend with book.AppendAsync: up to
// three synced batches in flight, each printed once its result is ready.
func killHelperAppendAsync(dir string) {
	ctx := context.Background()
	b := killHelperBook(ctx, dir)
	deadline := time.Now().Add(time.Minute) // in case the parent is gone
	var inflight []*book.PendingAppend
	n := b.Length()
	for time.Now().Before(deadline) {
		pages := make([][]byte, killBatch(n))
		for i := range pages {
			pages[i] = killPage(n + uint64(i))
		}
		n += uint64(len(pages))
		inflight = append(inflight, b.AppendAsync(ctx, book.AppendOptions{}, pages...))
		if len(inflight) < 3 {
			continue
		}
		res, err := inflight[0].Wait(ctx)
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(2)
		}
		inflight = inflight[1:]
		fmt.Fprintf(os.Stdout, "LEN %d\n", res.Length) // unbuffered: one write
	}
	os.Exit(3)
}

func TestKill9(t *testing.T) { testKill9(t, "append") }

// TestKill9Async: after kill -9 of a writer pipelining synced AppendAsync
// calls, the book holds every batch whose result was ready, whole
// batches only, in order (checkAfterKill).
func TestKill9Async(t *testing.T) { testKill9(t, "append-async") }

func testKill9(t *testing.T, job string) {
	if os.Getenv(killHelperEnv) != "" {
		t.Skip("in the helper process")
	}
	dir := t.TempDir()
	cmd, sc := startKillChild(t, "TestKillHelper", job, dir)
	want := 200 + int(time.Now().UnixNano()%200)
	var reported []uint64
	for len(reported) < want && sc.Scan() {
		line := sc.Text()
		v, ok := strings.CutPrefix(line, "LEN ")
		if !ok {
			t.Fatalf("child: %s", line)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		reported = append(reported, n)
	}
	if len(reported) < want {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child stopped after %d lengths: %v", len(reported), sc.Err())
	}
	killChild(t, cmd)
	last := reported[len(reported)-1]
	checkAfterKill(t, dir, last)
}

// startKillChild starts the helper test name as a child process with
// job, writing in dir, and returns it and its output's lines. A watchdog
// kills it if the test forgets to.
func startKillChild(t *testing.T, name, job, dir string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := helperCmd(name, killHelperEnv+"="+job, "FOLIO_KILL_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(45*time.Second, func() { cmd.Process.Kill() })
	t.Cleanup(func() { watchdog.Stop() })
	return cmd, bufio.NewScanner(out)
}

// killChild sends SIGKILL to the child and checks that it died of it.
func killChild(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
}

// checkAfterKill reopens the DB the killed child wrote and checks that
// every page it reported is there, whole batches only, and audits clean.
// It returns the DB (closed when the test ends) and the book.
func checkAfterKill(t *testing.T, dir string, last uint64) (*DB, *book.Book) {
	ctx := context.Background()
	d := openTest(t, dir, nil)
	b, err := d.Book(ctx, "kill")
	if err != nil {
		t.Fatal(err)
	}
	n := b.Length()
	if n < last {
		t.Fatalf("after kill -9: length %d, the child had reported %d", n, last)
	}
	var boundary uint64
	for boundary < n {
		boundary += uint64(killBatch(boundary))
	}
	if boundary != n {
		t.Fatalf("after kill -9: length %d is not a batch boundary (next is %d)", n, boundary)
	}
	var total uint64
	for i := range n {
		p, err := b.Get(ctx, i, &book.GetOptions{LocalOnly: true})
		if err != nil || !bytes.Equal(p, killPage(i)) {
			t.Fatalf("page %d after kill -9: %q, %v", i, p, err)
		}
		total += uint64(len(p))
	}
	if b.ByteLength() != total {
		t.Fatalf("byte length %d, pages sum to %d", b.ByteLength(), total)
	}
	auditClean(t, b)
	t.Logf("killed after %d reported pages; %d recovered", last, n)
	return d, b
}

func TestLockedAcrossProcesses(t *testing.T) {
	if os.Getenv(killHelperEnv) != "" {
		t.Skip("in the helper process")
	}
	dir := t.TempDir()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := runOpenHelper(t, dir); got != "locked" {
		d.Close()
		t.Fatalf("second process opening an open DB: %q, want locked", got)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Once the first process closes it, the other one may open it: so the
	// refusal above was the lock, not something else.
	if got := runOpenHelper(t, dir); got != "opened" {
		t.Fatalf("second process opening a closed DB: %q, want opened", got)
	}
}

func runOpenHelper(t *testing.T, dir string) string {
	t.Helper()
	cmd := helperCmd("TestKillHelper", killHelperEnv+"=open", "FOLIO_KILL_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "RESULT "); ok {
			return v
		}
	}
	t.Fatalf("helper printed no result:\n%s", out)
	return ""
}
