package devtools

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folio-p2p/folio/db/peerstore"
	pspb "github.com/folio-p2p/folio/db/peerstore/pb"
	"github.com/folio-p2p/folio/internal/safeterm/safetermtest"
	peerpb "github.com/folio-p2p/folio/peer/pb"
	vaultpb "github.com/folio-p2p/folio/vault/pb"
)

const hostile, hostileShown = safetermtest.Hostile, safetermtest.Shown

// checkTerminalSafe fails if out could drive a terminal.
func checkTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	if err := safetermtest.Check(out); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// TestInspectEscapesPeerText: what peers wrote (message text, names,
// task titles, agent versions, protocols, addresses' owners) is shown
// escaped by pages, page, books and peers, never raw.
func TestInspectEscapesPeerText(t *testing.T) {
	dir := t.TempDir()
	ana, _ := testIdentity(t, 0xa1)
	bob, _ := testIdentity(t, 0xb2)
	d := seededDB(t, filepath.Join(dir, "db"), 3)
	title := (&pairTitle{Author: bob, Reader: ana, Task: testTask}).String()
	update := mustMarshal(t, &peerpb.TaskUpdate{Task: testTask[:], Title: "trip " + hostile})
	appendPages(t, d, title,
		mustMarshal(t, &peerpb.Address{Author: []byte(bob), Reader: []byte(ana), Task: testTask[:], Name: "Bob" + hostile}),
		envelope(t, bob, 1, 1, peerpb.Type_TYPE_TASK_UPDATE, update),
		envelope(t, bob, 2, 2, peerpb.Type_TYPE_TEXT, []byte("hi "+hostile)),
		envelope(t, bob, 3, 3, peerpb.Type_TYPE_TEXT, []byte("raw C1 \x9b2J")))
	appendPages(t, d, profileBookName, mustMarshal(t, &vaultpb.Profile{PeerId: []byte(ana), Name: "Ana", Status: hostile}))
	appendPages(t, d, "notes "+hostile, []byte("a local book with a strange name"))
	protos := mustMarshal(t, &pspb.StringList{Values: []string{"/folio/replicate/1.0.0", "/evil/" + hostile}})
	meta := mustMarshal(t, &pspb.MetaList{Entries: []*pspb.Meta{
		{Key: "AgentVersion", Value: &pspb.Value{Kind: &pspb.Value_String_{String_: "folio/0.1 " + hostile}}},
		{Key: "x" + hostile, Value: &pspb.Value{Kind: &pspb.Value_Strings{Strings: &pspb.StringList{Values: []string{hostile}}}}},
	}})
	appendPages(t, d, peerstoreBookName, mustMarshal(t, &pspb.Page{Version: 1, Time: testTime.UnixNano(), Body: &pspb.Page_Peer{Peer: &pspb.Peer{
		Id: []byte(bob), Books: uint32(peerstore.JournalProtos | peerstore.JournalMeta), Protocols: protos, Metadata: meta}}}))
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{
		{"pages", title},
		{"page", title, "2"},
		{"pages", profileBookName},
		{"books"},
		{"peers"},
		{"pages", "notes " + hostile},
	} {
		out, errOut, code := runDevtools(t, append([]string{"--dir", dir}, args...))
		what := fmt.Sprintf("devtools %q", args)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", what, code, errOut)
		}
		checkTerminalSafe(t, what, out)
		checkTerminalSafe(t, what+" (stderr)", errOut)
		if !strings.Contains(out, hostileShown) {
			t.Errorf("%s does not show %s:\n%s", what, hostileShown, out)
		}
	}
	out, _, _ := runDevtools(t, []string{"--dir", dir, "page", title, "3"})
	if !strings.Contains(out, `raw C1 \x9b2J`) {
		t.Errorf("a raw C1 byte is not shown as \\x9b:\n%s", out)
	}
	out, _, _ = runDevtools(t, []string{"--dir", dir, "page", title, "2"})
	if !strings.Contains(out, `\nforged`) {
		t.Errorf("a newline in a message is not shown as \\n:\n%s", out)
	}
}
