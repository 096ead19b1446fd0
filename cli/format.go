package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/internal/safeterm"
)

// How messages print in a terminal: one line each, peer text escaped.

// printMessage prints one message: a JSON line with --json, else a line
// for people.
func (c *cmd) printMessage(m api.Message) {
	if c.asJSON {
		b, _ := json.Marshal(m)
		fmt.Fprintf(c.stdout, "%s\n", b)
		return
	}
	fmt.Fprintln(c.stdout, formatMessage(m))
}

// formatMessage renders a message for a terminal: one line, with what
// its author (or any peer) wrote escaped.
func formatMessage(m api.Message) string { return safeterm.Printable(messageLine(m)) }

func messageLine(m api.Message) string {
	who := m.Name
	if who == "" {
		who = shortPeer(m.Author)
	}
	when := ""
	if t, err := time.Parse(time.RFC3339Nano, m.Time); err == nil {
		when = t.Local().Format("Jan 2 15:04")
	}
	id := shortID(m)
	switch m.Type {
	case "unreadable":
		return fmt.Sprintf("%s [%s] %s: (unreadable page: %s)", when, id, who, m.Error)
	case "task":
		return fmt.Sprintf("%s [%s] %s set the task: %q", when, id, who, m.Text)
	case "join":
		added := m.MemberName
		if added == "" {
			added = shortPeer(m.Member)
		}
		return fmt.Sprintf("%s [%s] %s added %s", when, id, who, added)
	case "leave":
		return fmt.Sprintf("%s [%s] %s left the task", when, id, who)
	case "profile":
		return fmt.Sprintf("%s [%s] %s is now called %q", when, id, shortPeer(m.Author), m.Text)
	case "edit", "delete", "reaction":
		return fmt.Sprintf("%s [%s] %s %s %s %s", when, id, who, m.Type, shortRef(m.Ref), m.Text)
	}
	text := m.Text
	if m.Deleted {
		text = "(deleted)"
	} else if m.Edited {
		text += " (edited)"
	}
	if m.Ref != "" {
		text = "↪ " + shortRef(m.Ref) + " " + text
	}
	return fmt.Sprintf("%s [%s] %s: %s%s", when, id, who, text, reactionsLine(m.Reactions))
}

// shortPeer is the last 6 characters of a peer ID: enough to tell the
// members of a task apart.
func shortPeer(id string) string {
	if len(id) > 6 {
		return id[len(id)-6:]
	}
	return id
}

func shortID(m api.Message) string { return fmt.Sprintf("%s/%d", shortPeer(m.Author), m.Index) }

func shortRef(ref string) string {
	a, i, ok := strings.Cut(ref, "/")
	if !ok {
		return ref
	}
	return shortPeer(a) + "/" + i
}

// reactionsLine is "  👍 2 ❤️ 1", reactions in a stable order.
func reactionsLine(rs map[string][]string) string {
	keys := slices.Sorted(maps.Keys(rs))
	out := ""
	for _, r := range keys {
		out += fmt.Sprintf(" %s %d", r, len(rs[r]))
	}
	if out != "" {
		out = "  " + out[1:]
	}
	return out
}
