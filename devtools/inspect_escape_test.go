package devtools

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	pspb "github.com/folio-p2p/folio/db/peerstore/pb"
	peerpb "github.com/folio-p2p/folio/peer/pb"
	vaultpb "github.com/folio-p2p/folio/vault/pb"
)

// hostile is text a peer may write to take over a reader's terminal:
// retitle it (OSC), clear it (CSI), a C1 CSI, reverse what follows (bidi).
const hostile = "\x1b]0;pwned\x07\x1b[2J\u009b2J\u202e"

// hostileShown is how it must be shown.
const hostileShown = `\x1b]0;pwned\x07\x1b[2J\u009b2J\u202e`

// checkTerminalSafe fails if out holds a byte or character that drives a
// terminal: C0 controls but newline, DEL, C1, bidi controls, invalid UTF-8.
func checkTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s: invalid UTF-8 in %q", what, out)
	}
	for _, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || unicode.Is(unicode.Bidi_Control, r) {
			t.Errorf("%s: %U reaches the terminal:\n%q", what, r, out)
			return
		}
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
	title := (&pairTitle{bob, ana, testTask}).String()
	update := mustMarshal(t, &peerpb.TaskUpdate{Task: testTask[:], Title: "trip " + hostile})
	appendPages(t, d, title,
		mustMarshal(t, &peerpb.Address{Author: []byte(bob), Reader: []byte(ana), Task: testTask[:], Name: "Bob" + hostile}),
		envelope(t, bob, 1, 1, peerpb.Type_TYPE_TASK_UPDATE, update),
		envelope(t, bob, 2, 2, peerpb.Type_TYPE_TEXT, []byte("hi "+hostile+"\nforged line")),
		envelope(t, bob, 3, 3, peerpb.Type_TYPE_TEXT, []byte("raw C1 \x9b2J")))
	appendPages(t, d, profileBookName, mustMarshal(t, &vaultpb.Profile{PeerId: []byte(ana), Name: "Ana", Status: hostile}))
	appendPages(t, d, "notes "+hostile, []byte("a local book with a strange name"))
	protos := mustMarshal(t, &pspb.StringList{Values: []string{"/folio/replicate/1.0.0", "/evil/" + hostile}})
	meta := mustMarshal(t, &pspb.MetaList{Entries: []*pspb.Meta{
		{Key: "AgentVersion", Value: &pspb.Value{Kind: &pspb.Value_String_{String_: "folio/0.1 " + hostile}}},
		{Key: "x" + hostile, Value: &pspb.Value{Kind: &pspb.Value_Strings{Strings: &pspb.StringList{Values: []string{hostile}}}}},
	}})
	appendPages(t, d, peerstoreBookName, mustMarshal(t, &pspb.Page{Version: 1, Time: testTime.UnixNano(), Body: &pspb.Page_Peer{Peer: &pspb.Peer{
		Id: []byte(bob), Books: uint32(journalProtos | journalMeta), Protocols: protos, Metadata: meta}}}))
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
	if !strings.Contains(out, `\nforged line`) {
		t.Errorf("a newline in a message is not shown as \\n:\n%s", out)
	}
}
