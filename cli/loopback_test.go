package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/folio-p2p/folio/api"
)

// Tests send packets to loopback only. A command with no daemon to talk
// to opens the vault itself, which by default listens on every interface
// and multicasts mDNS: runFolio adds loopbackFlags to every command that
// may open it (init keeps to loopback by itself).
var loopbackFlags = []string{"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--no-dht"}

// onLoopback returns args, followed by loopbackFlags when the command may
// open the vault's network.
func onLoopback(args []string) []string {
	if len(args) > 0 {
		switch args[0] {
		case "id", "task", "invite", "join", "send", "log", "chat", "run":
			return append(slices.Clone(args), loopbackFlags...)
		}
	}
	return args
}

// TestCommandsOnLoopback: a command the tests run without a daemon
// listens on 127.0.0.1 only.
func TestCommandsOnLoopback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", dir)
	var id api.ID
	if out := mustFolio(t, "id", "--dir", dir, "--json"); json.Unmarshal([]byte(out), &id) != nil || len(id.Addrs) == 0 {
		t.Fatalf("folio id --json printed %q, want addresses", out)
	}
	for _, a := range id.Addrs {
		if !strings.HasPrefix(a, "/ip4/127.0.0.1/") {
			t.Errorf("folio id: listening on %s, not on 127.0.0.1", a)
		}
	}
}
