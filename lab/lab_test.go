package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLabConverges drives `lab 3` from a script, as a user would type it:
// a message while all run, peer 2 stopped, messages while it is away,
// peer 2 started again; then sync must report convergence and state must
// show the three peers with timelines of the same length.
func TestLabConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three libp2p peers")
	}
	script := `
# three peers in one task
send 1 hello from one
sync 120
stop 2
send 1 while two is away
send 3 three here too
state
start 2
sync 120
state
timeline 2
quit
`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := LabCommand(ctx, []string{"3", "--timeout", "120s"}, strings.NewReader(script), &out, &errb)
	text := out.String()
	if code != 0 {
		t.Fatalf("exit %d\n%s\nstderr: %s", code, text, errb.String())
	}
	for _, want := range []string{
		"peer 2 joined through peer 1",
		"peer 3 joined through peer 1",
		`peer 1 sent "hello from one"`,
		"peer 2 stopped (its vault stays)",
		"peer 2  stopped",
		`peer 3 sent "three here too"`,
		"converged: the 3 running peers (1, 2, 3) see the same",
		"peer 1: while two is away",
		"peer 3: three here too",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("lab output lacks %q", want)
		}
	}
	// the last state: three running peers with timelines of one length
	states := regexp.MustCompile(`peer (\d)  running  timeline (\d+) entries`).FindAllStringSubmatch(text, -1)
	if len(states) < 3 {
		t.Fatalf("state lines %q\n%s", states, text)
	}
	last := states[len(states)-3:]
	for _, s := range last {
		if s[2] != last[0][2] {
			t.Errorf("after the last sync, timelines differ: %q\n%s", last, text)
		}
	}
	// peer 2 caught up on what it missed while it was stopped
	after := text[strings.LastIndex(text, "> timeline 2"):]
	for _, msg := range []string{"hello from one", "while two is away", "three here too"} {
		if !strings.Contains(after, msg) {
			t.Errorf("peer 2's timeline lacks %q:\n%s", msg, after)
		}
	}
	if t.Failed() {
		t.Logf("lab output:\n%s", text)
	}
}

// TestLabJSONAndUsage checks --json (one event object per line) and the
// usage errors.
func TestLabJSONAndUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"1"}, {"x"}, {"2", "3"}, {"2", "--nope"}} {
		var out, errb bytes.Buffer
		if code := LabCommand(context.Background(), args, strings.NewReader(""), &out, &errb); code != 2 {
			t.Errorf("lab %q: exit %d, want 2", args, code)
		}
	}
	if testing.Short() {
		return
	}
	var out, errb bytes.Buffer
	code := LabCommand(context.Background(), []string{"2", "--json"}, strings.NewReader("state\nsend 9 x\nbogus\n"), &out, &errb)
	if code != 1 { // send 9 and bogus fail
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	kinds := map[string]int{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var ev LabEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not a JSON event: %q: %v", sc.Text(), err)
		}
		kinds[ev.Kind]++
	}
	if kinds["started"] != 2 || kinds["state"] != 2 || kinds["error"] != 2 {
		t.Fatalf("event kinds %v", kinds)
	}
}
