// Package safeterm makes text from other peers safe to print on a
// terminal. Names, messages, task titles, agent versions and protocol IDs
// come from remote peers; printed raw, an ESC or C1 sequence
// ("\x1b]0;title\x07", "\x1b[2J", U+009B) would retitle, clear or
// reprogram the reader's terminal, a newline would forge a line of
// output, and a bidi override (U+202E) would reorder what follows.
//
// Printable shows every such character as a visible escape instead:
//
//	C0 controls, DEL   \n \r \t, else \xNN   (\x1b, \x07, \x7f)
//	C1 controls        \u0080 … \u009f
//	bidi controls      \u061c \u200e \u200f \u202a … \u202e \u2066 … \u2069
//	line separators    \u2028 \u2029
//	invalid UTF-8      \xNN, one per byte
//
// Everything else, backslashes included, is kept as it is: the escapes
// are for a person reading, not a format to parse back.
//
// It is internal: cli and devtools both print peers' text, and neither
// layer may import the other's helpers the other way round.
package safeterm
