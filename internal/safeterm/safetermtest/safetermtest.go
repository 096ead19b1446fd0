// Package safetermtest holds what tests of terminal output share: hostile
// text and a check that output cannot drive a terminal.
package safetermtest

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Hostile is text a peer may write to take over a reader's terminal:
// retitle it (OSC), clear it (CSI), a C1 CSI, reverse what follows
// (bidi), and forge a line of output.
const Hostile = "\x1b]0;pwned\x07\x1b[2J\u009b2J\u202e\nforged"

// Shown is Hostile as safeterm.Printable shows it.
const Shown = `\x1b]0;pwned\x07\x1b[2J\u009b2J\u202e\nforged`

// Check returns an error naming the first thing in out that would drive
// a terminal: a C0 control other than newline, DEL, a C1 control, a bidi
// control, a line separator, or invalid UTF-8.
func Check(out string) error {
	if !utf8.ValidString(out) {
		return fmt.Errorf("invalid UTF-8 in %q", out)
	}
	for _, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("%U reaches the terminal in %q", r, out)
		}
	}
	return nil
}
