package cli

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/peer"
)

// tmux drives a program in a detached terminal of its own tmux server.
type tmux struct {
	t       *testing.T
	sock    string // the server's socket
	name    string // the session's name
	errFile string // the program's stderr
}

func (x *tmux) run(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", x.sock, "-f", "/dev/null"}, args...)...)
	// Not nested in the caller's tmux; the command line is for sh.
	env := []string{"SHELL=/bin/sh"}
	for _, kv := range testEnv() {
		if !strings.HasPrefix(kv, "TMUX=") && !strings.HasPrefix(kv, "TMUX_PANE=") && !strings.HasPrefix(kv, "SHELL=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// screen is the pane's text, its scrollback included, wrapped lines joined.
func (x *tmux) screen() string {
	out, err := x.run("capture-pane", "-p", "-J", "-S", "-2000", "-t", x.name)
	if err != nil {
		return "(capture-pane: " + err.Error() + ": " + out + ")"
	}
	return out
}

// paneTitle is the title the program in the pane set (OSC 0 or 2).
func (x *tmux) paneTitle() string {
	out, err := x.run("display-message", "-p", "-t", x.name, "#{pane_title}")
	if err != nil {
		x.t.Fatalf("display-message: %v %s", err, out)
	}
	return strings.TrimSpace(out)
}

func (x *tmux) alive() bool {
	_, err := x.run("has-session", "-t", x.name)
	return err == nil
}

// typeLine types text and Enter.
func (x *tmux) typeLine(text string) {
	x.t.Helper()
	if out, err := x.run("send-keys", "-t", x.name, "-l", text); err != nil {
		x.t.Fatalf("send-keys %q: %v %s", text, err, out)
	}
	if out, err := x.run("send-keys", "-t", x.name, "Enter"); err != nil {
		x.t.Fatalf("send-keys Enter: %v %s", err, out)
	}
}

// waitScreen waits until the pane matches re and returns the submatches
// of its last match.
func (x *tmux) waitScreen(what string, re *regexp.Regexp) []string {
	x.t.Helper()
	var m []string
	waitFor(x.t, 60*time.Second, what, func() (bool, string) {
		s := x.screen()
		all := re.FindAllStringSubmatch(s, -1)
		if len(all) == 0 {
			b, _ := os.ReadFile(x.errFile)
			return false, fmt.Sprintf("no %s in the pane:\n%s\nstderr: %s", re, s, b)
		}
		m = all[len(all)-1]
		return true, ""
	})
	return m
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestChatInTmux runs `folio chat` in a real terminal (tmux) against bob's
// daemon while ana's daemon runs beside it.
func TestChatInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("FOLIO_CI") == "1" {
			t.Fatal("tmux is not installed; the chat test needs it (apt-get install tmux)")
		}
		t.Skip("tmux is not installed: skipping the terminal chat test (FOLIO_CI=1 makes this a failure)")
	}
	p := startPair(t)
	bin := folioBin(t)
	dir := t.TempDir()
	x := &tmux{t: t, sock: filepath.Join(dir, "tmux"), name: fmt.Sprintf("folio-chat-%d", os.Getpid()), errFile: filepath.Join(dir, "stderr")}
	exitFile := filepath.Join(dir, "exit")
	command := fmt.Sprintf("%s chat %s --dir %s %s 2>%s; echo $? >%s",
		shellQuote(bin), p.task.ID, shellQuote(p.dirB), strings.Join(loopbackFlags, " "), shellQuote(x.errFile), shellQuote(exitFile))
	if out, err := x.run("new-session", "-d", "-s", x.name, "-x", "150", "-y", "40", command); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	t.Cleanup(func() { x.run("kill-server") })

	x.waitScreen("the chat's header", regexp.MustCompile(`== trip \(`+p.task.ID[:8]+`\) — 2 members`))
	x.waitScreen("the history", regexp.MustCompile(`\] ana added bob`))
	x.waitScreen("the prompt", regexp.MustCompile(`(?m)^>\s*$`))

	// A line typed in bob's chat is sent: it shows in the chat and in
	// ana's log.
	x.typeLine("hello from bob")
	bobShort := x.waitScreen("bob's message in his chat", regexp.MustCompile(`\[(\w{6}/\d+)\] bob: hello from bob`))[1]
	var bobID string
	waitFor(t, 60*time.Second, "bob's message in ana's log", func() (bool, string) {
		for _, m := range logJSON(t, p.dirA, p.task.ID) {
			if m.Text == "hello from bob" && m.Name == "bob" {
				bobID = m.ID
				return true, ""
			}
		}
		return false, "not there"
	})
	if shortRef(bobID) != bobShort {
		t.Errorf("the chat shows [%s] for %s", bobShort, bobID)
	}

	// ana's message arrives live.
	anaID := strings.TrimSpace(mustFolio(t, "send", p.task.ID, "hi from ana", "--dir", p.dirA))
	anaShort := x.waitScreen("ana's message, live", regexp.MustCompile(`\[(\w{6}/\d+)\] ana: hi from ana`))[1]
	if shortRef(anaID) != anaShort {
		t.Errorf("the chat shows [%s] for %s", anaShort, anaID)
	}

	// A member's escape sequences are shown, not obeyed: the pane keeps
	// its title, and the text shows escaped on one line.
	title := x.paneTitle()
	mustFolio(t, "send", p.task.ID, "evil"+hostile, "--dir", p.dirA)
	x.waitScreen("ana's escapes, escaped", regexp.MustCompile(`\] ana: evil`+regexp.QuoteMeta(hostileShown)))
	if got := x.paneTitle(); got != title || strings.Contains(got, "pwned") {
		t.Errorf("the pane's title went from %q to %q: ana's OSC reached the terminal", title, got)
	}

	// /reply, /edit, /delete with the IDs in brackets.
	x.typeLine("/reply " + anaShort + " sure thing")
	x.waitScreen("the reply", regexp.MustCompile(`\] bob: ↪ `+regexp.QuoteMeta(anaShort)+` sure thing`))
	x.typeLine("/edit [" + bobShort + "] hello edited")
	x.waitScreen("the edit", regexp.MustCompile(`\] bob edit `+regexp.QuoteMeta(bobShort)+` hello edited`))
	x.typeLine("/delete " + bobShort)
	x.waitScreen("the delete", regexp.MustCompile(`\] bob delete `+regexp.QuoteMeta(bobShort)))
	waitFor(t, 60*time.Second, "the reply, edit and delete in ana's log", func() (bool, string) {
		var reply, deleted bool
		for _, m := range logJSON(t, p.dirA, p.task.ID) {
			if m.Type == "reply" && m.Text == "sure thing" && m.Ref == anaID {
				reply = true
			}
			if m.ID == bobID && m.Deleted && m.Edited {
				deleted = true
			}
		}
		return reply && deleted, fmt.Sprintf("reply %v, edited and deleted %v", reply, deleted)
	})

	// Mistakes give a "!" line and the chat goes on.
	x.typeLine("/edit " + anaShort + " not mine")
	x.waitScreen("refused edit", regexp.MustCompile(`(?m)^! .*not the author`))
	x.typeLine("/reply zzzzzz/99 who?")
	x.waitScreen("unknown ID", regexp.MustCompile(`(?m)^! no such message: zzzzzz/99: no member of this task has an ID ending in "zzzzzz"`))
	x.typeLine("/frobnicate")
	x.waitScreen("unknown command", regexp.MustCompile(`(?m)^! unknown command /frobnicate`))

	// /invite prints a usable code for this task; /tasks lists it.
	x.typeLine("/invite")
	code := x.waitScreen("an invite code", regexp.MustCompile(`invite code \(one use\): (folio1-[a-z0-9]+)`))[1]
	if in, err := peer.DecodeInvite(code); err != nil {
		t.Errorf("/invite printed %q: %v", code, err)
	} else if hex.EncodeToString(in.Task) != p.task.ID {
		t.Errorf("/invite made a code for task %x, want %s", in.Task, p.task.ID)
	}
	x.typeLine("/tasks")
	x.waitScreen("the task list", regexp.MustCompile(`(?m)^`+p.task.ID[:8]+`  trip  \(unread \d+\)`))

	// Every message shows once.
	screen := x.screen()
	for _, re := range []string{`\] bob: hello from bob`, `\] ana: hi from ana`, `\] bob: ↪ \S+ sure thing`} {
		if n := len(regexp.MustCompile(re).FindAllString(screen, -1)); n != 1 {
			t.Errorf("%s shows %d times in the chat, want once:\n%s", re, n, screen)
		}
	}

	// /quit ends the program, and with it the tmux session.
	x.typeLine("/quit")
	waitFor(t, 60*time.Second, "the chat to end on /quit", func() (bool, string) {
		return !x.alive(), x.screen()
	})
	b, err := os.ReadFile(exitFile)
	if err != nil || strings.TrimSpace(string(b)) != "0" {
		errb, _ := os.ReadFile(x.errFile)
		t.Errorf("folio chat exit status %q (%v), want 0; stderr: %s", b, err, errb)
	}
	if n := textCounts(logJSON(t, p.dirB, p.task.ID))["sure thing"]; n != 1 {
		t.Errorf("bob's log has the reply %d times, want once", n)
	}
}
