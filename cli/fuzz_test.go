package cli

import "testing"

// FuzzParseHead: a message ID either fails cleanly or prints back as
// itself.
func FuzzParseHead(f *testing.F) {
	f.Add("12D3KooWLi14PkN6cUsnxWcR32UjSGaYpc1QUTbhWBc5xE6QhnZU/5")
	f.Add("x/1")
	f.Add("/")
	f.Add("12D3KooWLi14PkN6cUsnxWcR32UjSGaYpc1QUTbhWBc5xE6QhnZU/-1")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHead(s)
		if err != nil {
			return
		}
		if got := headID(h); got != s {
			back, err := parseHead(got)
			if err != nil || back.Author != h.Author || back.Index != h.Index {
				t.Fatalf("%q parsed to %q, which does not parse back", s, got)
			}
		}
	})
}
