package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/api"
)

// TestEveryVerb: each verb of the library from the command line, on two
// real daemons: react, edit and delete by the short IDs log prints,
// members with names and online status, a name change seen by the other
// side, read markers (log marks what it showed), rename, close, revoke,
// leave; replies to unknown messages and re-joins refused plainly.
func TestEveryVerb(t *testing.T) {
	p := startPair(t)
	a, b, task := p.dirA, p.dirB, p.task.ID
	hello := strings.TrimSpace(mustFolio(t, "send", task, "hello", "--dir", b))
	var short string
	waitFor(t, 30*time.Second, "ana's log shows bob's hello", func() (bool, string) {
		out := mustFolio(t, "log", task, "--dir", a)
		for _, l := range strings.Split(out, "\n") {
			if strings.HasSuffix(l, "bob: hello") {
				short = l[strings.Index(l, "[")+1 : strings.Index(l, "]")]
			}
		}
		return short != "", out
	})
	if !strings.HasSuffix(hello, short) {
		t.Fatalf("log shows [%s] for %s", short, hello)
	}

	// Every printed form of an ID names the message.
	for _, id := range []string{short, "[" + short + "]", hello} {
		mustFolio(t, "send", task, "re "+id, "--reply", id, "--dir", a)
	}
	mustFolio(t, "react", task, short, "👍", "--dir", a)
	oneLineErr(t, folio(t, "send", task, "?", "--reply", strings.Split(short, "/")[0]+"/999", "--dir", a), 1, "no such message", "/999")
	oneLineErr(t, folio(t, "send", task, "?", "--reply", "zzzzzz/1", "--dir", a), 1, "no member", "zzzzzz")
	oneLineErr(t, folio(t, "edit", task, short, "not mine", "--dir", a), 1, "not the author")
	mustFolio(t, "edit", task, short, "hello, edited", "--dir", b)
	waitFor(t, 30*time.Second, "the reaction and the edit reach ana", func() (bool, string) {
		for _, m := range logJSON(t, a, task) {
			if m.ID == hello {
				return m.Text == "hello, edited" && m.Edited && len(m.Reactions["👍"]) == 1, m.Text
			}
		}
		return false, "no hello"
	})

	// Read markers: ana's log showed everything; a new message is unread
	// until read.
	tasks := func(dir string) api.Task {
		var ts []api.Task
		json.Unmarshal([]byte(mustFolio(t, "task", "list", "--json", "--dir", dir)), &ts)
		for _, t := range ts {
			if t.ID == task {
				return t
			}
		}
		return api.Task{}
	}
	if n := tasks(a).Unread; n != 0 {
		t.Errorf("after log, ana has %d unread", n)
	}
	late := strings.TrimSpace(mustFolio(t, "send", task, "later", "--dir", b))
	waitFor(t, 30*time.Second, "ana counts bob's new message unread", func() (bool, string) {
		u := tasks(a).Unread
		return u == 1, fmt.Sprint("unread ", u)
	})
	var read api.Task
	json.Unmarshal([]byte(mustFolio(t, "read", task, "--upto", late, "--json", "--dir", a)), &read)
	if read.Unread != 0 {
		t.Errorf("read --upto: %+v", read)
	}
	mustFolio(t, "delete", task, late, "--dir", b)

	// Members: names, and who is online.
	var ms []api.Member
	json.Unmarshal([]byte(mustFolio(t, "members", task, "--json", "--dir", a)), &ms)
	if len(ms) != 2 {
		t.Fatalf("members: %+v", ms)
	}
	for _, m := range ms {
		if m.Me != (m.Name == "ana") || (!m.Me && (m.Name != "bob" || !m.Online)) {
			t.Errorf("member %+v", m)
		}
	}
	out := mustFolio(t, "members", task, "--dir", a)
	if !strings.Contains(out, "bob  online") || !strings.Contains(out, "ana  you") {
		t.Errorf("members printed %q", out)
	}

	// A new name reaches the other member.
	mustFolio(t, "name", "Roberto", "--dir", b)
	waitFor(t, 30*time.Second, "ana sees bob's new name", func() (bool, string) {
		out := mustFolio(t, "members", task, "--dir", a)
		return strings.Contains(out, "Roberto  online"), out
	})

	// Rename and close travel too.
	mustFolio(t, "rename", task, "summer trip", "--dir", a)
	mustFolio(t, "close", task, "--dir", a)
	waitFor(t, 30*time.Second, "bob sees the task renamed and closed", func() (bool, string) {
		tk := tasks(b)
		return tk.Title == "summer trip" && tk.Closed, tk.Title
	})

	// Re-joining says so; a revoked code is refused.
	code := strings.TrimSpace(mustFolio(t, "invite", task, "--dir", a))
	oneLineErr(t, folio(t, "join", code, "--dir", b), 1, "already a member")
	mustFolio(t, "revoke", code, "--dir", a)
	c := t.TempDir()
	mustFolio(t, "init", "--dir", c, "--name", "cleo")
	oneLineErr(t, folio(t, "join", code, "--dir", c, "--timeout", "30s"), 1, "revoked")

	// Leaving: bob is gone from ana's members.
	mustFolio(t, "leave", task, "--dir", b)
	waitFor(t, 30*time.Second, "ana sees bob leave", func() (bool, string) {
		json.Unmarshal([]byte(mustFolio(t, "members", task, "--json", "--dir", a)), &ms)
		return len(ms) == 1, mustFolio(t, "members", task, "--dir", a)
	})
	oneLineErr(t, folio(t, "send", task, "still here?", "--dir", b), 1, "left")

	// folio run told its person what happened (names and titles as they
	// are when a line is written: bob may be Roberto by then); --quiet
	// says nothing. A peer is named by its short ID, after its name once
	// the name is known.
	for _, want := range []string{`met (\S+ \(\w+\)|\w+): catching up`, `caught up with .+: \d+ new messages`, `new message from \S+ \(\w+\) in "[^"]+"`} {
		re := regexp.MustCompile(want)
		waitFor(t, 10*time.Second, "ana's folio run says "+want, func() (bool, string) {
			return re.MatchString(p.a.out.String()), p.a.out.String()
		})
	}
	q := startDaemon(t, c, "--quiet")
	mustFolio(t, "task", "new", "quiet one", "--dir", c)
	q.stop(t)
	if lines := strings.Split(strings.TrimSpace(q.out.String()), "\n"); len(lines) > 4 {
		t.Errorf("folio run --quiet said more than its start-up lines:\n%s", q.out)
	}
}

// TestHelpOnStdout: --help goes to stdout and lists only the flags that
// apply (no network flags on commands that never start it).
func TestHelpOnStdout(t *testing.T) {
	for _, c := range []struct {
		args []string
		net  bool
	}{
		{[]string{"send"}, false}, {[]string{"members"}, false}, {[]string{"react"}, false},
		{[]string{"task", "list"}, false}, {[]string{"open"}, false},
		{[]string{"run"}, true}, {[]string{"join"}, true}, {[]string{"chat"}, true},
	} {
		r := folio(t, append(c.args, "--help")...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "usage: folio "+strings.Join(c.args, " ")) {
			t.Errorf("%s\nwant exit 0 and the usage on stdout only", r)
		}
		if strings.Contains(r.stdout, "-listen") != c.net {
			t.Errorf("folio %s --help lists --listen: %v, want %v\n%s", strings.Join(c.args, " "), !c.net, c.net, r.stdout)
		}
	}
}
