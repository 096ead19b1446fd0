package safeterm

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/folio-p2p/folio/internal/safeterm/safetermtest"
)

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"hello, wörld ✓ 日本", "hello, wörld ✓ 日本"},
		{`C:\path \x1b`, `C:\path \x1b`}, // backslashes stay
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"a\nb\r\tc\x00\x7f", `a\nb\r\tc\x00\x7f`},
		{"\u009b2J", `\u009b2J`},                 // C1 CSI as a character
		{"\x9b2J", `\x9b2J`},                     // C1 CSI as a lone byte (invalid UTF-8)
		{"\xe2\x80", `\xe2\x80`},                 // a truncated sequence
		{"\ufffd", "\ufffd"},                     // a real replacement character stays
		{"abc\u202eexe.txt", `abc\u202eexe.txt`}, // right-to-left override
		{"\u2066x\u2069\u200f\u061c", `\u2066x\u2069\u200f\u061c`},
		{"one\u2028two", `one\u2028two`},
	} {
		if got := Printable(c.in); got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzPrintable: whatever comes in, what goes out is valid UTF-8 with no
// control, bidi or line-separator character, and text that needed no
// escape comes out unchanged.
func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"", "plain", safetermtest.Hostile, "\x1b]0;pwned\x07", "\x1b[2J", "\x9b", "\u009b", "\u202e", "a\nb", "\xff\xfe", "\ufffd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Printable(s)
		if err := safetermtest.Check(out); err != nil || strings.Contains(out, "\n") {
			t.Fatalf("Printable(%q) = %q: %v", s, out, err)
		}
		clean := utf8.ValidString(s) && !strings.ContainsFunc(s, unsafe)
		if clean != (out == s) {
			t.Fatalf("Printable(%q) = %q: clean input %v, unchanged %v", s, out, clean, out == s)
		}
	})
}
