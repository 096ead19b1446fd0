package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// holdVault is the child process of TestWaitForVault: it opens the
// vault in dir (offline), says HOLDING, keeps it for hold, and exits.
func holdVault(dir string, hold time.Duration) {
	p, err := peer.Open(context.Background(), dir, &peer.Options{Vault: &vault.Options{Offline: true}})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(3)
	}
	fmt.Println("HOLDING")
	time.Sleep(hold)
	p.Close()
	os.Exit(0)
}

// startHolder runs holdVault in another OS process (this test binary) and
// returns once it holds the vault. Cleanup kills it.
func startHolder(t *testing.T, dir string, hold time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWaitForVault$")
	cmd.Env = append(testEnv(), "FOLIO_TEST_HOLD="+dir, "FOLIO_TEST_HOLD_FOR="+hold.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "HOLDING\n" {
		t.Fatalf("the holder said %q, want HOLDING", line)
	}
	return cmd
}

// TestWaitForVault: while another process holds the vault, a command
// waits for it (saying so on stderr) and succeeds once it is free; past
// --wait it fails with exit 1, naming the holder, and writes nothing.
func TestWaitForVault(t *testing.T) {
	if dir := os.Getenv("FOLIO_TEST_HOLD"); dir != "" {
		hold, _ := time.ParseDuration(os.Getenv("FOLIO_TEST_HOLD_FOR"))
		holdVault(dir, hold)
	}
	dir := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", dir, "--name", "cleo")
	mustFolio(t, "task", "new", "notes", "--dir", dir)

	holder := startHolder(t, dir, 1500*time.Millisecond)
	r := folio(t, "send", "notes", "after waiting", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stderr, waitingNote) {
		t.Errorf("%s\nwant exit 0 after %q on stderr", r, waitingNote)
	}
	if err := holder.Wait(); err != nil {
		t.Fatalf("the holder: %v", err)
	}

	holder = startHolder(t, dir, time.Hour)
	held := fmt.Sprintf("held by %s (pid %d)", filepath.Base(os.Args[0]), holder.Process.Pid)
	r = folio(t, "send", "notes", "too late", "--dir", dir, "--wait", "1s")
	oneLineErrAfter(t, r, waitingNote, "folio send", dir, held, "waited 1s", "--wait")
	r = folio(t, "task", "list", "--dir", dir, "--wait", "0")
	oneLineErr(t, r, 1, "folio task", held, "waited 0s")
	holder.Process.Kill()
	holder.Wait()

	n := textCounts(logJSON(t, dir, "notes"))
	if n["after waiting"] != 1 || n["too late"] != 0 {
		t.Errorf("the log has %v, want the message sent after waiting once and the one given up on never", n)
	}
}

// oneLineErrAfter checks that r failed with exit 1 after saying first on
// stderr, in one more line that mentions every word of want.
func oneLineErrAfter(t *testing.T, r result, first string, want ...string) {
	t.Helper()
	said, rest, _ := strings.Cut(r.stderr, "\n")
	if said != first {
		t.Errorf("%s\nwant %q first on stderr", r, first)
	}
	r.stderr = rest
	oneLineErr(t, r, 1, want...)
}
