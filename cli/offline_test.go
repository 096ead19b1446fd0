package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// busyAddr binds a loopback TCP port for the test's duration and returns
// it as a multiaddr: a peer told to listen there cannot start.
func busyAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", ln.Addr().(*net.TCPAddr).Port)
}

// TestOfflineCommands: without a daemon, id, task, send, log and invite
// (with addresses recorded) do not start the network: told to listen on a
// port another process holds, they still succeed. The commands that need
// the network (log --follow, invite with no address recorded) do start
// it, and fail on that port: the check is not vacuous.
func TestOfflineCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", dir, "--name", "cleo")
	netFlags := []string{"--dir", dir, "--listen", busyAddr(t), "--no-mdns", "--no-dht"}
	run := func(args ...string) string { return mustFolio(t, append(args, netFlags...)...) }
	// id, task and send take no network flags (they never start it).
	offline := func(args ...string) string { return mustFolio(t, append(args, "--dir", dir)...) }
	for _, args := range [][]string{{"id"}, {"task", "list"}, {"send", "notes", "x"}} {
		if r := folio(t, append(args, netFlags...)...); r.code != 2 || !strings.Contains(r.stderr, "flag provided but not defined: -listen") {
			t.Errorf("%s\nwant exit 2: no --listen on an offline command", r)
		}
	}

	out := offline("id")
	if !strings.Contains(out, "(cleo)") || !strings.Contains(out, "not listening") || strings.Contains(out, "/ip4/") {
		t.Errorf("offline folio id printed %q, want the name, no address and \"not listening\"", out)
	}
	offline("task", "new", "notes")
	offline("send", "notes", "written offline")
	if out := run("log", "notes"); !strings.Contains(out, "cleo: written offline") {
		t.Errorf("log printed %q", out)
	}
	if out := offline("task", "list"); !strings.Contains(out, "notes") {
		t.Errorf("task list printed %q", out)
	}
	for _, args := range [][]string{{"log", "notes", "--follow"}, {"invite", "notes"}} {
		// (libp2p logs its own lines about it too.)
		if r := folio(t, append(args, netFlags...)...); r.code != 1 || !strings.Contains(r.stderr, "folio "+args[0]+": libp2p host: failed to listen") {
			t.Errorf("%s\nwant exit 1: the network starts and cannot listen", r)
		}
	}

	// Once the vault ran online, invite puts the addresses of that run in
	// the code, offline.
	d := startDaemon(t, dir)
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	var ran []ma.Multiaddr
	for _, m := range regexp.MustCompile(`listening on (\S+)/p2p/`).FindAllStringSubmatch(d.out.String(), -1) {
		ran = append(ran, ma.StringCast(m[1]))
	}
	in, err := peer.DecodeInvite(strings.TrimSpace(run("invite", "notes")))
	if err != nil {
		t.Fatal(err)
	}
	var got []ma.Multiaddr
	for _, b := range in.Addrs {
		got = append(got, ma.Cast(b))
	}
	sortAddrs := func(as []ma.Multiaddr) {
		slices.SortFunc(as, func(a, b ma.Multiaddr) int { return strings.Compare(a.String(), b.String()) })
	}
	sortAddrs(ran)
	sortAddrs(got)
	if len(ran) == 0 || !slices.EqualFunc(got, ran, ma.Multiaddr.Equal) {
		t.Errorf("the offline invite carries %v, want the last run's %v", got, ran)
	}
}

// TestOfflineProcessHasNoSocket looks inside a real `folio log` process
// while it holds the vault (its stdout, a pipe nobody reads yet, is full):
// it has no socket open at all, so it neither listens nor sends (no mDNS
// multicast, no DHT).
func TestOfflineProcessHasNoSocket(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc to list a process's sockets")
	}
	dir := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", dir, "--name", "cleo")
	ctx := context.Background()
	p, err := peer.Open(ctx, dir, &peer.Options{Vault: offlineVault()})
	if err != nil {
		t.Fatal(err)
	}
	task, err := p.CreateTask(ctx, "long", peer.TaskID{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 4096)
	for range 40 { // 160 KiB of log: more than a pipe holds
		if _, err := p.Send(ctx, task, long); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Loopback only and no discovery, were the network to start by mistake.
	cmd := exec.Command(folioBin(t), "log", task.String(), "--limit", "40", "--dir", dir,
		"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--no-dht")
	cmd.Env, cmd.Stdout = testEnv(), w
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer cmd.Process.Kill()
	// Its first byte out means the vault is open; the rest fills the pipe.
	if _, err := io.ReadFull(r, make([]byte, 1)); err != nil {
		t.Fatalf("folio log printed nothing: %v", err)
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			t.Errorf("folio log (offline) has fd %s open on %s", fd.Name(), l)
		}
	}
	rest, _ := io.ReadAll(r)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("folio log: %v: %s", err, stderr.String())
	}
	if n := strings.Count(string(rest), long); n != 40 {
		t.Errorf("folio log printed %d of the 40 messages", n)
	}
}

// offlineVault are vault options for a peer the test opens itself.
func offlineVault() *vault.Options { return &vault.Options{Offline: true} }
