//go:build unix

package vault

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	folioio "github.com/folio-p2p/folio/io"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Three real processes on loopback: a bootstrap node B (DHT server) and
// two peers P1 and P2 that find each other through B (a topic on the
// DHT). P1 closes the normal way, B is stopped, P1 starts again with B
// still configured: from what its peerstore remembers it redials P2 and
// seeds its DHT with it, and meets P2 again with no bootstrap node.

const rejoinRoleEnv = "FOLIO_VAULT_REJOIN_ROLE"

var rejoinTopic = []byte("folio vault rejoin test topic 32")

func TestRestartRejoinsWithoutBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("three processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := startRejoin(ctx, t, "B", t.TempDir(), "")
	bAddr := b.expect(t, "ADDR ")
	p2 := startRejoin(ctx, t, "P2", t.TempDir(), bAddr)
	p2Addr := p2.expect(t, "ADDR ")
	dir1 := t.TempDir()
	p1 := startRejoin(ctx, t, "P1", dir1, bAddr)
	p1.expect(t, "ADDR ")
	p2ID := idOf(t, p2Addr)
	p1.waitPeer(t, p2ID, "first run, through B")

	p1.stop(t)
	b.stop(t)
	p1 = startRejoin(ctx, t, "P1 restarted", dir1, bAddr)
	p1.expect(t, "ADDR ")
	p1.waitPeer(t, p2ID, "restarted with B down")
	rt := p1.expect(t, "RT ")
	if rt == "0" {
		t.Errorf("restarted P1's DHT routing table is empty")
	}
	p1.stop(t)
	p2.stop(t)
}

// TestRejoinHelper is the child process of TestRestartRejoinsWithoutBootstrap.
func TestRejoinHelper(t *testing.T) {
	role := os.Getenv(rejoinRoleEnv)
	if role == "" {
		t.Skip("helper process")
	}
	if err := rejoinChild(role); err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	os.Exit(0)
}

func rejoinChild(role string) error {
	ctx := context.Background()
	o := testOptions(role)
	o.DisableDHT, o.DHTServer = false, true
	if boot := os.Getenv("FOLIO_VAULT_BOOT"); boot != "" {
		ai, err := peer.AddrInfoFromString(boot)
		if err != nil {
			return err
		}
		o.BootstrapPeers = []peer.AddrInfo{*ai}
	}
	v, err := Open(ctx, os.Getenv("FOLIO_VAULT_DIR"), o)
	if err != nil {
		return err
	}
	defer v.Close()
	if role != "B" {
		if err := v.Swarm().Join(rejoinTopic, folioio.JoinOptions{}); err != nil {
			return err
		}
	}
	fmt.Printf("ADDR %s/p2p/%s\n", v.Host().Addrs()[0], v.ID())
	stdinClosed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stdinClosed) }()
	seen := map[peer.ID]bool{}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stdinClosed:
			return nil
		case <-tick.C:
		}
		for _, h := range v.Swarm().Peers() {
			if !seen[h.Remote] {
				seen[h.Remote] = true
				fmt.Printf("PEER %s\n", h.Remote)
				fmt.Printf("RT %d\n", v.Swarm().DHTPeers())
			}
		}
	}
}

type rejoinProc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startRejoin(ctx context.Context, t *testing.T, name, dir, boot string) *rejoinProc {
	t.Helper()
	role := strings.Fields(name)[0]
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRejoinHelper$")
	cmd.Env = append(os.Environ(), rejoinRoleEnv+"="+role, "FOLIO_VAULT_DIR="+dir, "FOLIO_VAULT_BOOT="+boot)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &rejoinProc{name: name, cmd: cmd, stdin: stdin, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

// expect returns the rest of the next line starting with prefix.
func (p *rejoinProc) expect(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			switch {
			case !ok:
				t.Fatalf("%s ended before %q", p.name, prefix)
			case strings.HasPrefix(l, "ERROR"):
				t.Fatalf("%s: %s", p.name, l)
			case strings.HasPrefix(l, prefix):
				return strings.TrimPrefix(l, prefix)
			}
		case <-deadline:
			t.Fatalf("%s: no %q within 30 s", p.name, prefix)
		}
	}
}

func (p *rejoinProc) waitPeer(t *testing.T, id peer.ID, when string) {
	t.Helper()
	t.Logf("%s waits for %s (%s)", p.name, id, when)
	for p.expect(t, "PEER ") != id.String() {
	}
}

// stop closes the child's stdin: it closes its vault the normal way.
func (p *rejoinProc) stop(t *testing.T) {
	t.Helper()
	_ = p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
}

func idOf(t *testing.T, addr string) peer.ID {
	t.Helper()
	ai, err := peer.AddrInfoFromP2pAddr(ma.StringCast(addr))
	if err != nil {
		t.Fatal(err)
	}
	return ai.ID
}
