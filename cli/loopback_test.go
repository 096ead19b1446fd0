package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/folio-p2p/folio/peer"
)

// Tests send packets to loopback only. A command with no daemon to talk
// to opens the vault itself, which by default listens on every interface
// and multicasts mDNS: runFolio adds loopbackFlags to every command that
// may open it (init keeps to loopback by itself).
var loopbackFlags = []string{"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--no-dht"}

// onLoopback returns args, followed by loopbackFlags when the command may
// open the vault's network. A test that gives --listen itself keeps it.
func onLoopback(args []string) []string {
	if len(args) == 0 || slices.Contains(args, "--listen") {
		return args
	}
	switch args[0] {
	case "invite", "join", "log", "chat", "run":
		return append(slices.Clone(args), loopbackFlags...)
	}
	return args
}

// TestCommandsOnLoopback: a command the tests run without a daemon that
// starts the network (invite, with no earlier run's addresses recorded)
// listens on 127.0.0.1 only: the addresses in its code say so.
func TestCommandsOnLoopback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", dir)
	mustFolio(t, "task", "new", "notes", "--dir", dir)
	in, err := peer.DecodeInvite(strings.TrimSpace(mustFolio(t, "invite", "notes", "--dir", dir)))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Addrs) == 0 {
		t.Fatal("the invite carries no address: the network did not start")
	}
	for _, b := range in.Addrs {
		if a := ma.Cast(b); !strings.HasPrefix(a.String(), "/ip4/127.0.0.1/") {
			t.Errorf("folio invite: listening on %s, not on 127.0.0.1", a)
		}
	}
}
