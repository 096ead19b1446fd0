// Command folio is the command-line face of the folio library. It only
// parses the command name and hands the rest to the package that owns it:
// cli for a person's commands, devtools for the inspector, demo, bench
// and lab for the programs that drive peers.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/folio-p2p/folio/bench"
	"github.com/folio-p2p/folio/cli"
	"github.com/folio-p2p/folio/demo"
	"github.com/folio-p2p/folio/devtools"
	"github.com/folio-p2p/folio/lab"
)

const usage = `folio: signed append-only books for peer-to-peer apps, and a task messenger

usage: folio <command> [flags]     (folio <command> --help for each)

commands:
` + cli.Commands + `  devtools CMD    inspect a vault: books, pages, page, verify, tree, peers, watch, stats, lab
  demo            three peers meet over libp2p on loopback and chat
  bench <shape>   measure appends, reads and proofs
  help            show this help

The vault lives in $FOLIO_DIR (default ~/.local/share/folio); --dir overrides.
Exit codes: 0 success, 1 failure, 2 usage error.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if slices.Contains(cli.Names(), args[0]) {
		return cli.Run(ctx, cli.Config{Inspector: devtools.RunInspector}, args[0], args[1:], stdout, stderr)
	}
	switch args[0] {
	case "devtools":
		if len(args) > 1 && args[1] == "lab" { // a program of its own, listed with the inspector
			return lab.LabCommand(ctx, args[2:], os.Stdin, stdout, stderr)
		}
		return devtools.DevtoolsCommand(ctx, args[1:], stdout, stderr)
	case "demo":
		return demo.DemoCommand(ctx, args[1:], stdout, stderr)
	case "bench":
		return bench.BenchCommand(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "folio: unknown command %q (run folio help)\n", args[0])
	return 2
}
