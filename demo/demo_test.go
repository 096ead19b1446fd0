package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestDemo runs the README's main command as a user would (in process)
// and checks what it reports: three equal timelines, every book verified,
// each peer holding 2·(n−1) books of the task.
func TestDemo(t *testing.T) {
	var out, errb bytes.Buffer
	code := DemoCommand(context.Background(), []string{"--json", "--timeout", "60s"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	var rep DemoReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out.String())
	}
	if !rep.OK || len(rep.Peers) != 3 {
		t.Fatalf("report: %+v", rep)
	}
	want := rep.Peers[0].Timeline
	if len(want) != 10 {
		t.Fatalf("timeline has %d entries, want 10: %q", len(want), want)
	}
	for _, p := range rep.Peers {
		if strings.Join(p.Timeline, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s sees %q, want %q", p.Name, p.Timeline, want)
		}
		if len(p.Books) != 4 {
			t.Fatalf("%s holds %d books, want 4", p.Name, len(p.Books))
		}
		for _, b := range p.Books {
			if !b.Verified || b.Length < 2 {
				t.Fatalf("%s: book %+v", p.Name, b)
			}
		}
	}
	for _, line := range []string{"Carol: Hello both! I'm in.", "Bob added Ana", "Ana added Carol"} {
		if !strings.Contains(strings.Join(want, "\n"), line) {
			t.Errorf("timeline lacks %q", line)
		}
	}
}

func TestDemoUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := DemoCommand(context.Background(), []string{"stray"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if code := DemoCommand(context.Background(), []string{"--nope"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}
