package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// oneLineErr checks that r failed with code and said one line on stderr
// that contains every word of want.
func oneLineErr(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s\nwant exit %d", r, code)
		return
	}
	if lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n"); len(lines) != 1 || lines[0] == "" {
		t.Errorf("folio %s: stderr %q, want one line", strings.Join(r.args, " "), r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("folio %s: stderr %q does not mention %q", strings.Join(r.args, " "), r.stderr, w)
		}
	}
	if r.stdout != "" {
		t.Errorf("folio %s: printed %q on stdout on failure", strings.Join(r.args, " "), r.stdout)
	}
}

// TestUsage: the documented exit codes (0 success, 1 failure, 2 usage
// error) and a helpful line on stderr.
func TestUsage(t *testing.T) {
	vault := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", vault, "--name", "ana")
	empty := t.TempDir()

	t.Run("no command", func(t *testing.T) {
		r := folio(t)
		if r.code != 2 || !strings.Contains(r.stderr, "usage: folio <command>") || !strings.Contains(r.stderr, "chat TASK") || r.stdout != "" {
			t.Errorf("%s\nwant exit 2 and the usage on stderr", r)
		}
	})
	t.Run("help", func(t *testing.T) {
		for _, arg := range []string{"help", "--help", "-h"} {
			r := folio(t, arg)
			if r.code != 0 || !strings.Contains(r.stdout, "usage: folio <command>") || !strings.Contains(r.stdout, "Exit codes") {
				t.Errorf("%s\nwant exit 0 and the usage on stdout", r)
			}
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		oneLineErr(t, folio(t, "frobnicate"), 2, "frobnicate", "folio help")
		oneLineErr(t, folio(t, "task", "frobnicate", "--dir", vault), 2, "folio task", "task new")
		oneLineErr(t, folio(t, "task", "--dir", vault), 2, "folio task")
	})
	t.Run("arguments", func(t *testing.T) {
		for _, args := range [][]string{
			{"send"},
			{"send", "--dir", vault},
			{"send", "trip", "--dir", vault},
			{"send", "trip", "hello", "extra", "--dir", vault},
			{"invite"},
			{"join"},
			{"log"},
			{"chat"},
			{"task", "new"},
			{"task", "list", "extra"},
			{"id", "extra"},
			{"init", "extra"},
			{"run", "extra"},
		} {
			oneLineErr(t, folio(t, args...), 2, "folio "+args[0], "wrong number of arguments", "--help")
		}
	})
	t.Run("flags", func(t *testing.T) {
		// The flag package shows the command's usage after its error.
		for _, args := range [][]string{
			{"send", "trip", "hi", "--bogus"},
			{"log", "trip", "--limit", "many"},
			{"init", "--name"},
		} {
			r := folio(t, args...)
			if r.code != 2 || !strings.Contains(r.stderr, "folio "+args[0]+":") || !strings.Contains(r.stderr, "usage: folio "+args[0]) {
				t.Errorf("%s\nwant exit 2, an error naming the command and its usage", r)
			}
		}
		oneLineErr(t, folio(t, "log", "trip", "--limit", "0", "--dir", vault), 2, "folio log", "--limit")
		oneLineErr(t, folio(t, "run", "--dir", vault, "--bootstrap", "not-an-address"), 2, "folio run", "--bootstrap")
	})
	t.Run("no vault", func(t *testing.T) {
		for _, args := range [][]string{
			{"task", "list"},
			{"task", "new", "trip"},
			{"id"},
			{"send", "trip", "hi"},
			{"log", "trip"},
			{"invite", "trip"},
			{"chat", "trip"},
			{"run"},
		} {
			r := folio(t, append(args, "--dir", empty)...)
			oneLineErr(t, r, 1, "no vault in "+empty, "folio init --dir "+empty)
		}
		// Without --dir, $FOLIO_DIR is the vault (here: nowhere).
		oneLineErr(t, folio(t, "task", "list"), 1, "no vault in /nonexistent/folio-test-no-vault", "FOLIO_DIR")
	})
	t.Run("init twice", func(t *testing.T) {
		oneLineErr(t, folio(t, "init", "--dir", vault), 1, "already exists", vault)
	})
	t.Run("bad invite code", func(t *testing.T) {
		for _, code := range []string{"garbage", "folio1-", "folio1-abcdefgh", "folio1-!!!!"} {
			oneLineErr(t, folio(t, "join", code, "--dir", vault), 1, "folio join", "invite code")
		}
	})
	t.Run("runtime errors", func(t *testing.T) {
		oneLineErr(t, folio(t, "send", "no-such-task", "hi", "--dir", vault), 1, "folio send", "no such task")
		oneLineErr(t, folio(t, "log", "no-such-task", "--dir", vault), 1, "folio log", "no such task")
		oneLineErr(t, folio(t, "invite", "no-such-task", "--dir", vault), 1, "folio invite", "no such task")
		oneLineErr(t, folio(t, "chat", "no-such-task", "--dir", vault), 1, "folio chat", "no such task")
	})
	t.Run("--help", func(t *testing.T) {
		for _, args := range [][]string{
			{"init"}, {"id"}, {"run"}, {"task"}, {"task", "new"}, {"task", "list"},
			{"invite"}, {"join"}, {"send"}, {"log"}, {"chat"}, {"demo"}, {"bench"},
		} {
			for _, h := range []string{"--help", "-h"} {
				r := folio(t, append(args, h)...)
				usage := "usage: folio " + strings.Join(args, " ")
				if r.code != 0 || !strings.Contains(r.stdout+r.stderr, usage) {
					t.Errorf("%s\nwant exit 0 and %q", r, usage)
				}
			}
		}
	})
}
