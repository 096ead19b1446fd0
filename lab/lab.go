package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LabCommand runs `folio devtools lab N`: N peers in this process, each
// with its own vault in a temporary directory, listening on loopback only
// and all members of one task. It reads commands from stdin, one a line,
// and prints what happens, deliveries included, as it happens:
//
//	stop K          close peer K (its vault stays)
//	start K         open peer K again: it meets the others and catches up
//	send K TEXT     peer K sends TEXT to the task
//	state           each peer: running or not, timeline length, books
//	timeline K      peer K's timeline
//	sync [SECONDS]  wait until every running peer sees the same timeline
//	quit            stop every peer and exit (so does the end of stdin)
//
// Exit codes: 0 every command worked, 1 some command failed (a sync that
// did not converge included), 2 usage error.
func LabCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per event instead of text")
	root := fs.String("root", "", "directory for the vaults (default: a temporary one, removed after)")
	keep := fs.Bool("keep", false, "keep the vaults afterwards")
	timeout := fs.Duration("timeout", 60*time.Second, "how long one command (a start, a send, a sync) may take")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: folio devtools lab N [flags]\n\nStart N peers (2 to %d) in this process on loopback, each in its own vault,\nall in one task; then read commands from stdin:\n\n%s\nflags:\n", labMaxPeers, labHelp)
		fs.PrintDefaults()
	}
	pos, code, ok := parseLab(fs, args)
	if !ok {
		return code
	}
	n, err := strconv.Atoi(pos)
	if err != nil || n < 2 || n > labMaxPeers {
		fmt.Fprintf(stderr, "folio devtools lab: N is a number of peers from 2 to %d, not %q\n", labMaxPeers, pos)
		return 2
	}
	dir := *root
	if dir == "" {
		if dir, err = os.MkdirTemp("", "folio-lab-"); err != nil {
			fmt.Fprintf(stderr, "folio devtools lab: %v\n", err)
			return 1
		}
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	l := newLab(ctx, dir, &labOutput{w: stdout, json: *asJSON}, *timeout)
	defer l.close()
	if err := l.setUp(n); err != nil {
		l.out.say("error", 0, "setting up the lab: %v", err)
		return 1
	}
	l.run(stdin)
	if *keep {
		l.out.say("info", 0, "vaults kept in %s", dir)
	}
	if l.failed > 0 {
		return 1
	}
	return 0
}

// labMaxPeers bounds a lab (each peer is a libp2p host).
const labMaxPeers = 16

const labHelp = `  stop K          close peer K (its vault stays)
  start K         open peer K again: it meets the others and catches up
  send K TEXT     peer K sends TEXT to the task
  state           each peer: running or not, timeline length, books
  timeline K      peer K's timeline
  sync [SECONDS]  wait until every running peer sees the same timeline
  help            this list
  quit            stop every peer and exit (so does the end of stdin)
`

// parseLab parses flags and the one positional argument in any order.
func parseLab(fs *flag.FlagSet, args []string) (pos string, code int, ok bool) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return "", 0, false
			}
			return "", 2, false
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		fmt.Fprintf(fs.Output(), "folio devtools lab: want one argument, the number of peers (see --help)\n")
		return "", 2, false
	}
	return rest[0], 0, true
}

// run reads and runs commands until quit, the end of in, or ctx ends.
func (l *lab) run(in io.Reader) {
	lines, stop := make(chan string), make(chan struct{})
	defer close(stop)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
	}()
	l.out.say("info", 0, "ready: type help for the commands")
	for {
		select {
		case <-l.ctx.Done():
			return
		case line, open := <-lines:
			if !open {
				return
			}
			if !l.do(strings.Fields(line)) {
				return
			}
		}
	}
}

// do runs one command line; false means quit.
func (l *lab) do(f []string) bool {
	if len(f) == 0 || strings.HasPrefix(f[0], "#") {
		return true
	}
	l.out.say("command", 0, "> %s", strings.Join(f, " "))
	var err error
	switch f[0] {
	case "quit", "exit":
		return false
	case "help":
		l.out.say("info", 0, "commands:\n%s", strings.TrimRight(labHelp, "\n"))
	case "state":
		l.state()
	case "sync":
		err = l.syncCmd(f[1:])
	case "stop", "start", "timeline":
		var k int
		if k, err = l.peerArg(f, 2); err == nil {
			switch f[0] {
			case "stop":
				err = l.stop(k)
			case "start":
				err = l.start(k)
			default:
				err = l.timeline(k)
			}
		}
	case "send":
		var k int
		if len(f) < 3 {
			err = fmt.Errorf("usage: send K TEXT")
		} else if k, err = l.peerArg(f[:2], 2); err == nil {
			err = l.send(k, strings.Join(f[2:], " "))
		}
	default:
		err = fmt.Errorf("unknown command %q (type help)", f[0])
	}
	if err != nil {
		l.failed++
		l.out.say("error", 0, "%v", err)
	}
	return true
}

// peerArg reads the peer number of a command of want words.
func (l *lab) peerArg(f []string, want int) (int, error) {
	if len(f) != want {
		return 0, fmt.Errorf("usage: %s K", f[0])
	}
	k, err := strconv.Atoi(f[1])
	if err != nil || k < 1 || k > len(l.peers) {
		return 0, fmt.Errorf("no peer %q: peers are 1 to %d", f[1], len(l.peers))
	}
	return k, nil
}

// LabEvent is one line of the lab's output, in --json form.
type LabEvent struct {
	Time time.Time `json:"time"`
	Kind string    `json:"kind"`           // command, info, started, stopped, sent, received, state, timeline, sync, error
	Peer int       `json:"peer,omitempty"` // the peer it concerns
	Text string    `json:"text"`
}

// labOutput prints the lab's events, whole lines at a time, from any
// goroutine.
type labOutput struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

func (o *labOutput) say(kind string, peer int, format string, args ...any) {
	ev := LabEvent{Time: time.Now(), Kind: kind, Peer: peer, Text: fmt.Sprintf(format, args...)}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.json {
		b, _ := json.Marshal(ev)
		fmt.Fprintf(o.w, "%s\n", b)
		return
	}
	switch kind {
	case "command":
		fmt.Fprintf(o.w, "%s\n", ev.Text)
	case "error":
		fmt.Fprintf(o.w, "error: %s\n", ev.Text)
	default:
		fmt.Fprintf(o.w, "%s\n", ev.Text)
	}
}
