package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/internal/safeterm/safetermtest"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

const hostile, hostileShown = safetermtest.Hostile, safetermtest.Shown

// checkTerminalSafe fails if out could drive a terminal.
func checkTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	if err := safetermtest.Check(out); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// openTestPeer opens a messenger on dir in this process, on loopback.
func openTestPeer(t *testing.T, dir, name string) *peer.Peer {
	t.Helper()
	p, err := peer.Open(context.Background(), dir, &peer.Options{Vault: &vault.Options{
		Name: name, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, DisableDHT: true, DisableMDNS: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestEscapesPeerText: a member named with terminal escapes creates a
// task titled with them and writes a message full of them; bob's folio
// log and task list show them escaped, on one line each,
// and log --json keeps the text as it was written.
func TestEscapesPeerText(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	root := t.TempDir()
	bobDir := filepath.Join(root, "bob")
	mallory := openTestPeer(t, filepath.Join(root, "mallory"), "mallory"+hostile)
	bob := openTestPeer(t, bobDir, "bob")
	task, err := mallory.CreateTask(ctx, "trip"+hostile, peer.TaskID{})
	if err != nil {
		t.Fatal(err)
	}
	code, err := mallory.Invite(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Join(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, err := mallory.Send(ctx, task, "hi"+hostile); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "mallory's message at bob's", func() (bool, string) {
		ms, err := bob.Timeline(ctx, task, nil)
		if err != nil || len(ms) == 0 {
			return false, "nothing yet"
		}
		last := ms[len(ms)-1]
		return last.Text == "hi"+hostile && bob.Name(ctx, last.Head.Author) == "mallory"+hostile, last.Text
	})
	if err := bob.Close(); err != nil {
		t.Fatal(err)
	}

	id := task.String()
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"log", id}, []string{"mallory" + hostileShown + ": hi" + hostileShown, "mallory" + hostileShown + " set the task: "}},
		{[]string{"task", "list"}, []string{"trip" + hostileShown + "  members 2"}},
	} {
		out := mustFolio(t, append(c.args, "--dir", bobDir)...)
		checkTerminalSafe(t, strings.Join(c.args, " "), out)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("folio %s printed\n%s\nwant a line with %s", strings.Join(c.args, " "), out, w)
			}
		}
		if strings.Contains(out, "\nforged") {
			t.Errorf("folio %s let a member forge a line:\n%s", strings.Join(c.args, " "), out)
		}
	}
	var ms []api.Message
	if err := json.Unmarshal([]byte(mustFolio(t, "log", id, "--json", "--dir", bobDir)), &ms); err != nil {
		t.Fatal(err)
	}
	if last := ms[len(ms)-1]; last.Text != "hi"+hostile || last.Name != "mallory"+hostile {
		t.Errorf("log --json has %q by %q, want the text and name as written", last.Text, last.Name)
	}
}
