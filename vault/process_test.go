package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSecondProcessRefused: while one process has the vault open, a
// second OS process opening it gets ErrLocked, with the directory and the
// holder named.
func TestSecondProcessRefused(t *testing.T) {
	if dir := os.Getenv("FOLIO_VAULT_CHILD"); dir != "" {
		_, err := Open(context.Background(), dir, testOptions(""))
		switch {
		case errors.Is(err, ErrLocked):
			os.Stdout.WriteString("LOCKED " + err.Error() + "\n")
			os.Exit(0)
		case err == nil:
			os.Stdout.WriteString("OPENED\n")
			os.Exit(3)
		default:
			os.Stdout.WriteString("ERROR " + err.Error() + "\n")
			os.Exit(4)
		}
	}
	dir := t.TempDir()
	v := openVault(t, dir, testOptions("ana"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondProcessRefused$")
	cmd.Env = append(os.Environ(), "FOLIO_VAULT_CHILD="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if !strings.HasPrefix(string(out), "LOCKED ") || !strings.Contains(string(out), dir) {
		t.Fatalf("child said %q, want ErrLocked naming %s", out, dir)
	}
	// It names the holder: this test binary and its pid.
	if holder := fmt.Sprintf("held by vault.test (pid %d)", os.Getpid()); !strings.Contains(string(out), holder) {
		t.Fatalf("child said %q, want it to say %q", out, holder)
	}
	// Once closed, another process may open it.
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(os.Args[0], "-test.run=^TestSecondProcessRefused$")
	cmd.Env = append(os.Environ(), "FOLIO_VAULT_CHILD="+dir)
	out, _ = cmd.Output()
	if !strings.HasPrefix(string(out), "OPENED") {
		t.Fatalf("after close the child said %q, want OPENED", out)
	}
}
