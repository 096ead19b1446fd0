package cli

import (
	"errors"
	"regexp"
	"strings"

	"github.com/folio-p2p/folio/peer"
)

// pkgPrefix matches the package prefixes of folio's sentinel errors
// ("peer: ", "api: "…): they help a programmer, not a person.
var pkgPrefix = regexp.MustCompile(`(^|\s)(peer|api|vault|cli|db|book|io|peerstore): `)

// plain is an error as a person should read it: one line, without
// package prefixes or the sentinel's generic words where the wrapped
// message says more, with a hint of what to do when there is one.
func plain(err error) string {
	s := pkgPrefix.ReplaceAllString(err.Error(), "$1")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.TrimPrefix(s, "invalid argument: ")
	switch {
	case errors.Is(err, peer.ErrNoTask):
		s += " (folio task list shows your tasks)"
	case errors.Is(err, peer.ErrLeft):
		s += " (an invite from a member brings you back)"
	}
	return s
}
