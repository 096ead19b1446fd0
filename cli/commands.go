package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/folio-p2p/folio/internal/safeterm"
	folioPeer "github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// Config is what the program mounting the commands provides.
type Config struct {
	// Inspector serves `folio devtools` on a running daemon.
	Inspector Inspector
	// Stdin feeds interactive commands (chat). Default os.Stdin.
	Stdin io.Reader
}

// Commands lists the user commands, for the program's help. Names gives
// their names: the program routes exactly these to Run.
const Commands = `  init            create a vault (folio init --name NAME)
  id              print this peer's ID and addresses
  name NAME       change your name (your tasks' members see it)
  run             run the peer and serve the local API (Unix socket, optional --http with the web app)
  open            open the web app in your browser (--print-url: print its login URL)
  task new|list   create or list tasks (with unread counts)
  invite TASK     print an invite code for a task
  revoke CODE     make an invite code unusable
  join CODE       join a task with an invite code
  members TASK    a task's members: names, online or not
  send TASK TEXT  send a message (--reply ID)
  edit TASK ID TEXT     change one of your messages
  delete TASK ID        delete one of your messages
  react TASK ID EMOJI   react to a message
  log TASK        print a task's messages and mark them read (--json, --limit N, --before ID, --follow)
  read TASK       mark a task read (--upto ID)
  chat TASK       interactive chat in the terminal
  rename TASK TITLE     give a task a new title
  close TASK      mark a task done
  leave TASK      leave a task
` + hypercoreCommands

// Names are the commands Run knows.
func Names() []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(Commands), "\n") {
		out = append(out, strings.Fields(l)[0])
	}
	return out
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Run runs one user command; it returns the exit code: 0 success, 1
// runtime failure, 2 usage error. Errors go to stderr in one line.
func Run(ctx context.Context, cfg Config, name string, args []string, stdout, stderr io.Writer) int {
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	c := &cmd{cfg: cfg, name: name, stdout: stdout, stderr: stderr}
	err := c.run(ctx, args)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "folio %s: %s (see folio %s --help)\n", name, safeterm.Printable(ue.msg), name)
		return 2
	default:
		fmt.Fprintf(stderr, "folio %s: %s\n", name, oneLine(err))
		return 1
	}
}

// oneLine is an error for a terminal: one line, and what peers put in it
// (a refusal's reason, a name) escaped.
func oneLine(err error) string {
	return safeterm.Printable(plain(err))
}

type cmd struct {
	cfg    Config
	name   string
	stdout io.Writer
	stderr io.Writer

	fs       *flag.FlagSet
	dir      string
	asJSON   bool
	listen   string
	boot     string
	noMDNS   bool
	noDHT    bool
	peerName string
	wait     time.Duration
	online   bool // start the network (see open.go)
}

// Which optional flags a command takes (flags' kinds).
const (
	fJSON   = 1 << iota // --json: the command prints something a script may read
	fNet                // --listen, --bootstrap, --no-mdns, --no-dht: it may start the network
	fNoWait             // no --wait: it never waits for the vault
)

// flags declares --dir, and the flags of kinds that apply to the command:
// its --help lists only those.
func (c *cmd) flags(usage string, kinds int) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.dir, "dir", DefaultDir(), "vault directory ($FOLIO_DIR)")
	if kinds&fJSON != 0 {
		fs.BoolVar(&c.asJSON, "json", false, "print JSON")
	}
	if kinds&fNet != 0 {
		fs.StringVar(&c.listen, "listen", "", "comma-separated libp2p listen multiaddrs (default: TCP and QUIC on all interfaces)")
		fs.StringVar(&c.boot, "bootstrap", "", "comma-separated DHT bootstrap peers (multiaddrs with /p2p/ID)")
		fs.BoolVar(&c.noMDNS, "no-mdns", false, "no LAN discovery by mDNS")
		fs.BoolVar(&c.noDHT, "no-dht", false, "no DHT")
	}
	if kinds&fNoWait == 0 {
		fs.DurationVar(&c.wait, "wait", defaultWait, "while another folio command holds the vault, wait this long for it (0: fail at once)")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: folio %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	c.fs = fs
	return fs
}

// isHelp says whether a is a request for help: its answer goes to stdout.
func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

// parse parses args and checks the number of positional arguments.
func (c *cmd) parse(args []string, min, max int) error {
	// Flags may follow the positional arguments.
	var pos []string
	if slices.ContainsFunc(args, isHelp) {
		c.fs.SetOutput(c.stdout)
	}
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err.Error()}
		}
		if c.fs.NArg() == 0 {
			break
		}
		pos = append(pos, c.fs.Arg(0))
		args = c.fs.Args()[1:]
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		return usagef("wrong number of arguments")
	}
	c.fs = flagArgs(c.fs, pos)
	return nil
}

// flagArgs remembers the positional arguments for arg().
func flagArgs(fs *flag.FlagSet, pos []string) *flag.FlagSet {
	fs.Parse(append([]string{"--"}, pos...))
	return fs
}

func (c *cmd) arg(i int) string { return c.fs.Arg(i) }

// vaultOptions are the peer options from the shared flags.
func (c *cmd) options() (*folioPeer.Options, error) {
	vo := &vault.Options{Name: c.peerName, DisableMDNS: c.noMDNS, DisableDHT: c.noDHT, Offline: !c.online}
	if c.listen != "" {
		vo.ListenAddrs = strings.Split(c.listen, ",")
	}
	if c.boot != "" {
		for _, s := range strings.Split(c.boot, ",") {
			m, err := ma.NewMultiaddr(strings.TrimSpace(s))
			if err != nil {
				return nil, usagef("bad --bootstrap address %q: %v", s, err)
			}
			ai, err := peer.AddrInfoFromP2pAddr(m)
			if err != nil {
				return nil, usagef("bad --bootstrap address %q: %v", s, err)
			}
			vo.BootstrapPeers = append(vo.BootstrapPeers, *ai)
		}
	}
	return &folioPeer.Options{Vault: vo}, nil
}

// open parses args (min to max positional arguments) and returns the
// backend: what every command but init and run starts with.
func (c *cmd) open(ctx context.Context, args []string, min, max int) (backend, func(), error) {
	if err := c.parse(args, min, max); err != nil {
		return nil, nil, err
	}
	return c.backend(ctx)
}

// backend connects to the running daemon, or opens the vault itself
// (online if c.online). done closes what it opened.
func (c *cmd) backend(ctx context.Context) (b backend, done func(), err error) {
	if !vaultExists(c.dir) {
		return nil, nil, fmt.Errorf("no vault in %s: create one with folio init --dir %s (or set FOLIO_DIR)", c.dir, c.dir)
	}
	o, err := c.options()
	if err != nil {
		return nil, nil, err
	}
	p, cl, err := c.openPeer(ctx, o, true)
	switch {
	case err != nil:
		return nil, nil, err
	case cl != nil:
		return cl, func() {}, nil
	}
	return &local{p: p, dir: c.dir}, func() { p.Close() }, nil
}

// reply prints a command's result: v as JSON under --json, else the line
// format makes of args.
func (c *cmd) reply(v any, format string, args ...any) error {
	if c.asJSON {
		c.printJSON(v)
		return nil
	}
	fmt.Fprintf(c.stdout, format, args...)
	return nil
}

func (c *cmd) printJSON(v any) {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (c *cmd) run(ctx context.Context, args []string) error {
	switch c.name {
	case "init":
		return c.init(ctx, args)
	case "id":
		return c.id(ctx, args)
	case "run":
		return c.runDaemon(ctx, args)
	case "task":
		return c.task(ctx, args)
	case "invite":
		return c.invite(ctx, args)
	case "join":
		return c.join(ctx, args)
	case "send":
		return c.send(ctx, args)
	case "log":
		return c.log(ctx, args)
	case "chat":
		return c.chat(ctx, args)
	case "read":
		return c.read(ctx, args)
	case "react":
		return c.react(ctx, args)
	case "edit":
		return c.edit(ctx, args)
	case "delete":
		return c.del(ctx, args)
	case "members":
		return c.members(ctx, args)
	case "leave":
		return c.leave(ctx, args)
	case "rename":
		return c.rename(ctx, args)
	case "close":
		return c.closeTask(ctx, args)
	case "revoke":
		return c.revoke(ctx, args)
	case "name":
		return c.setName(ctx, args)
	case "open":
		return c.webOpen(ctx, args)
	case "hypercore":
		return c.hypercore(ctx, args)
	}
	return usagef("unknown command")
}
