package devtools

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/folio-p2p/folio/internal/safeterm"
)

// globalArgs are the inspector's arguments split into the global flags
// and the command with its own arguments.
type globalArgs struct {
	dir  string
	json bool
	help bool
	rest []string // the command and its arguments, --dir removed
}

// splitGlobal takes --dir (anywhere before a "--") and, before the
// command, --json and --help out of args.
func splitGlobal(args []string) (globalArgs, error) {
	var g globalArgs
	seenCmd := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isFlag := strings.HasPrefix(a, "-") && a != "-" && a != "--"
		switch {
		case a == "--":
			g.rest = append(g.rest, args[i:]...)
			return g, nil
		case isFlag && name == "dir":
			if !hasValue {
				if i+1 >= len(args) {
					return g, fmt.Errorf("--dir needs a directory")
				}
				i++
				value = args[i]
			}
			g.dir = value
		case isFlag && !seenCmd && name == "json" && !hasValue:
			g.json = true
		case isFlag && !seenCmd && (name == "help" || name == "h"):
			g.help = true
		case isFlag && !seenCmd:
			return g, fmt.Errorf("unknown flag %s before the command", a)
		case !seenCmd && a == "help":
			g.help = true
			seenCmd = true
		default:
			seenCmd = seenCmd || !isFlag
			g.rest = append(g.rest, a)
		}
	}
	return g, nil
}

// forward returns the arguments to hand to a running peer: the command
// with its arguments, and --json when it was given before the command.
func (g globalArgs) forward() []string {
	if g.json {
		return append([]string{"--json"}, g.rest...)
	}
	return g.rest
}

// wantsHelp reports whether a command's arguments ask for its help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// inspector runs one command.
type inspector struct {
	ctx    context.Context
	env    *Env
	cmd    *inspectCommand
	stdout io.Writer
	stderr io.Writer
	json   bool // --json
}

// live reports whether the inspector looks at a running peer.
func (in *inspector) live() bool { return in.env.Vault != nil }

// flags returns the command's flag set, with --json; about is printed
// under the synopsis by --help.
func (in *inspector) flags(about string) *flag.FlagSet {
	fs := flag.NewFlagSet(in.cmd.name, flag.ContinueOnError)
	fs.SetOutput(in.stderr)
	fs.BoolVar(&in.json, "json", false, "print JSON instead of text")
	fs.Usage = func() {
		fmt.Fprintf(in.stderr, "usage: folio devtools %s\n\n%s\n\nflags:\n", strings.TrimSpace(in.cmd.name+" "+in.cmd.args), about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and positional arguments in any order. It returns
// the positional arguments, or ok false and the exit code (0 for --help,
// 2 for a bad flag or a count of arguments outside [min, max]; max < 0
// means no limit).
func (in *inspector) parse(fs *flag.FlagSet, args []string, min, max int) (pos []string, ok bool, code int) {
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, false, 0
			}
			return nil, false, 2
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		fmt.Fprintf(in.stderr, "folio devtools %s: wrong number of arguments (usage: folio devtools %s)\n", in.cmd.name, strings.TrimSpace(in.cmd.name+" "+in.cmd.args))
		return nil, false, 2
	}
	return pos, true, 0
}

// fail prints an error for the command and returns exit code 1.
func (in *inspector) fail(format string, args ...any) int {
	fmt.Fprintf(in.stderr, "folio devtools %s: %s\n", in.cmd.name, safeterm.Printable(fmt.Sprintf(format, args...)))
	return 1
}

// usage prints a usage error for the command and returns exit code 2.
func (in *inspector) usage(format string, args ...any) int {
	fmt.Fprintf(in.stderr, "folio devtools %s: %s (see folio devtools %s --help)\n", in.cmd.name, safeterm.Printable(fmt.Sprintf(format, args...)), in.cmd.name)
	return 2
}

// emit writes v as indented JSON to stdout.
func (in *inspector) emit(v any) {
	enc := json.NewEncoder(in.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// printf writes text to stdout. Its string and error arguments are
// escaped (safeterm.Printable): agent versions, protocols, names and
// errors come from other peers; only format itself may hold newlines.
func (in *inspector) printf(format string, args ...any) {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = safeterm.Printable(v)
		case error:
			args[i] = safeterm.Printable(v.Error())
		}
	}
	fmt.Fprintf(in.stdout, format, args...)
}
