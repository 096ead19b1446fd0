package devtools

import (
	"context"
	"errors"
	"fmt"
	"github.com/folio-p2p/folio/vault"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/db"
)

// The inspector: `folio devtools <command> [flags]`. DevtoolsCommand finds
// the vault; when a peer runs on it, the command runs inside that peer
// (through the local API) and sees its live state; otherwise the vault's
// DB is opened read-only here. RunInspector runs one command on an Env,
// wherever it comes from; the daemon calls it with its live Env.

// inspectCommand is one inspector command.
type inspectCommand struct {
	name    string
	args    string // synopsis of the arguments
	summary string
	run     func(in *inspector, args []string) int
}

// inspectCommands lists the commands in the order --help shows them.
var inspectCommands = []inspectCommand{
	{"books", "", "every book: title, keys, mode, length, bytes, fork, signed time, replication", (*inspector).books},
	{"pages", "BOOK [--from N] [--to M]", "pages with size, leaf hash and decoded content (hex otherwise)", (*inspector).pages},
	{"page", "BOOK N [--proof]", "one page; with --proof its Merkle proof and the signed head, verified", (*inspector).page},
	{"verify", "[BOOK...]", "audit every node, page and signature; exit 1 naming what is wrong", (*inspector).verify},
	{"tree", "BOOK [--format dot|svg]", "the Merkle tree: roots, spans, nodes stored and missing here", (*inspector).tree},
	{"peers", "", "the peerstore: peers, addresses with TTLs, protocols, keys, metadata", (*inspector).peers},
	{"peerstore", "rebuild", "fold the peerstore journal again and compare with the live projection", (*inspector).peerstore},
	{"watch", "[BOOK...]", "live tail of appends, sessions, handshakes, failures (running peer only)", (*inspector).watch},
	{"stats", "", "DB metrics, Pebble metrics, replication counters", (*inspector).stats},
}

// DevtoolsCommand runs `folio devtools [--dir DIR] [--json] <command>
// [flags]` and returns the exit code: 0 success, 1 failure (a check found
// problems, or something went wrong), 2 usage error.
//
// The vault is --dir, else $FOLIO_DIR, else $XDG_DATA_HOME/folio, else
// ~/.local/share/folio. When a peer runs on it (its API socket answers),
// the command runs in that peer and its output is copied here. Otherwise
// the vault's DB is opened read-only; a DB locked by a process that does
// not answer is reported as such.
func DevtoolsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g, code, ok := parseGlobal(args, stderr)
	if !ok {
		return code
	}
	if findCommand(g.rest[0]) == nil {
		fmt.Fprintf(stderr, "folio devtools: unknown command %q (see folio devtools --help)\n", g.rest[0])
		return 2
	}
	if wantsHelp(g.rest[1:]) { // no vault needed to read a command's help
		return RunInspector(ctx, &Env{}, g.forward(), stdout, stderr)
	}
	dir := g.dir
	if dir == "" {
		dir = vault.DefaultDir()
	}
	c, err := api.Dial(ctx, dir)
	var answered *api.StatusError
	switch {
	case err == nil:
		code, err := c.Devtools(ctx, g.forward(), stdout)
		if err != nil {
			fmt.Fprintf(stderr, "folio devtools: the peer running on %s: %v\n", dir, err)
			return 1
		}
		return code
	case errors.As(err, &answered):
		fmt.Fprintf(stderr, "folio devtools: the peer running on %s refused: %v\n", dir, err)
		return 1
	}
	d, err := openReadOnly(dir)
	if err != nil {
		fmt.Fprintf(stderr, "folio devtools: %v\n", err)
		return 1
	}
	defer d.Close()
	return RunInspector(ctx, &Env{Dir: dir, DB: d}, g.forward(), stdout, stderr)
}

// openReadOnly opens the vault's DB without writing to it.
func openReadOnly(dir string) (*db.DB, error) {
	dbDir := filepath.Join(dir, "db")
	if _, err := os.Stat(dbDir); err != nil {
		return nil, fmt.Errorf("no vault at %s (no %s; pass --dir or set FOLIO_DIR)", dir, dbDir)
	}
	d, err := db.Open(dbDir, &db.Options{ReadOnly: true, CacheSize: 32 << 20})
	switch {
	case errors.Is(err, db.ErrLocked):
		return nil, fmt.Errorf("the vault's DB %s is locked by another process, and no folio peer answers on %s: "+
			"stop that process, or let it serve its API (folio run) so that the inspector can ask it", dbDir, filepath.Join(dir, api.SocketName))
	case err != nil:
		return nil, fmt.Errorf("open the vault's DB read-only: %w", err)
	}
	return d, nil
}

// RunInspector runs one inspector command (args[0], then its arguments
// and flags) on env and returns the exit code: 0 success, 1 failure (a
// check found problems, a runtime error), 2 usage error. env is read-only
// (Vault, Peer, Peerstore and Events nil) or live (all set); the daemon
// calls it with its live Env and streams stdout to the client. A leading
// --json applies to the command; a --dir is ignored (env is the vault).
func RunInspector(ctx context.Context, env *Env, args []string, stdout, stderr io.Writer) int {
	g, code, ok := parseGlobal(args, stderr)
	if !ok {
		return code
	}
	c := findCommand(g.rest[0])
	switch {
	case c == nil:
		fmt.Fprintf(stderr, "folio devtools: unknown command %q (see folio devtools --help)\n", g.rest[0])
		return 2
	case c.run == nil:
		fmt.Fprintf(stderr, "folio devtools %s: starts peers of its own in the folio process and does not run inside a running peer (folio devtools %s runs it locally)\n", c.name, c.name)
		return 2
	}
	in := &inspector{ctx: ctx, env: env, cmd: c, stdout: stdout, stderr: stderr}
	cmdArgs := g.rest[1:]
	if g.json {
		cmdArgs = append([]string{"--json"}, cmdArgs...)
	}
	if env == nil || env.DB == nil {
		if wantsHelp(cmdArgs) {
			env = &Env{}
			in.env = env
		} else {
			return in.fail("no vault DB to inspect")
		}
	}
	return c.run(in, cmdArgs)
}

func findCommand(name string) *inspectCommand {
	for i := range inspectCommands {
		if inspectCommands[i].name == name {
			return &inspectCommands[i]
		}
	}
	return nil
}

func inspectUsage(w io.Writer) {
	fmt.Fprintf(w, `usage: folio devtools [--dir DIR] [--json] <command> [flags]

Look inside a vault: on disk (its DB opened read-only) or, when a peer runs
on it (folio run), inside that peer through its local API.

commands:
`)
	for _, c := range inspectCommands {
		fmt.Fprintf(w, "  %-34s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintf(w, `
BOOK is a book's name or title, its key in hex, or a unique prefix of the key.

global flags (before or after the command):
  --dir DIR   the vault (default $FOLIO_DIR, else $XDG_DATA_HOME/folio, else ~/.local/share/folio)
  --json      print JSON instead of text (every command)

Each command has --help. Exit codes: 0 ok, 1 failure or problems found, 2 usage.
`)
}

// parseGlobal splits the global flags off args; when there is nothing to
// run (an error, --help, no command) it has printed why and returns the
// exit code with ok false.
func parseGlobal(args []string, stderr io.Writer) (g globalArgs, code int, ok bool) {
	g, err := splitGlobal(args)
	if err != nil {
		fmt.Fprintf(stderr, "folio devtools: %v (see folio devtools --help)\n", err)
		return g, 2, false
	}
	if g.help || len(g.rest) == 0 {
		inspectUsage(stderr)
		if g.help {
			return g, 0, false
		}
		return g, 2, false
	}
	return g, 0, true
}
