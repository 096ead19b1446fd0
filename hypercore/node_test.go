package hypercore

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/internal/fixture"
)

// nodePeer is a real Node hypercore 11.37.1 process (testdata/
// hypercore-wire/interop/peer.cjs) driven over stdin/stdout.
type nodePeer struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines *bufio.Scanner
	ready nodeEvent
}

type nodeEvent struct {
	Event    string `json:"event"`
	Port     int    `json:"port"`
	Key      string `json:"key"`
	Length   uint64 `json:"length"`
	Compat   bool   `json:"compat"`
	TreeHash string `json:"treeHash"`
	Digest   string `json:"digest"`
}

// hypercoreDir is bench/hypercore, where `npm ci` installs hypercore.
func hypercoreDir() string {
	return filepath.Join(fixture.Dir(), "..", "..", "bench", "hypercore")
}

// needNode skips (fails under FOLIO_CI=1) without node and hypercore.
func needNode(t testing.TB) {
	t.Helper()
	reason := ""
	if _, err := exec.LookPath("node"); err != nil {
		reason = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(hypercoreDir(), "node_modules", "hypercore")); err != nil {
		reason = "hypercore is not installed: run npm ci in bench/hypercore"
	}
	if reason == "" {
		return
	}
	if os.Getenv("FOLIO_CI") == "1" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

func startNode(t testing.TB, opts map[string]any) *nodePeer {
	t.Helper()
	needNode(t)
	opts["dir"] = t.TempDir()
	arg, _ := json.Marshal(opts)
	cmd := exec.Command("node", filepath.Join(fixture.Dir(), "interop", "peer.cjs"), string(arg))
	cmd.Env = append(os.Environ(), "HYPERCORE_DIR="+hypercoreDir())
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nodePeer{cmd: cmd, in: in, lines: bufio.NewScanner(out)}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	p.ready = p.next(t)
	return p
}

func (p *nodePeer) next(t testing.TB) nodeEvent {
	t.Helper()
	if !p.lines.Scan() {
		t.Fatalf("node peer exited: %v", p.lines.Err())
	}
	var e nodeEvent
	if err := json.Unmarshal(p.lines.Bytes(), &e); err != nil {
		t.Fatalf("node said %q: %v", p.lines.Text(), err)
	}
	return e
}

func (p *nodePeer) send(t testing.TB, cmd string) {
	if _, err := fmt.Fprintln(p.in, cmd); err != nil {
		t.Fatal(err)
	}
}

// nodeBlock is block i as peer.cjs makes it.
func nodeBlock(i uint64, size int) []byte {
	b := []byte(fmt.Sprintf("blk-%d-", i))
	for len(b) < size {
		b = append(b, '.')
	}
	return b
}

// digest is peer.cjs's digest: SHA-256 over every block in order.
func digest(t testing.TB, b *book.Book) string {
	h := sha256.New()
	for i := uint64(0); i < b.Length(); i++ {
		p, err := b.Get(context.Background(), i, &book.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func treeHash(b *book.Book) string {
	h, _ := b.Head()
	return hex.EncodeToString(h.TreeHash[:])
}

func waitComplete(t testing.TB, ctx context.Context, b *book.Book, n uint64) {
	t.Helper()
	if err := b.Wait(ctx, n); err != nil {
		t.Fatalf("waiting for length %d: %v (have %d)", n, err, b.Length())
	}
	for {
		if c, _ := b.Contiguous(0); c >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d pages: %v", n, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// listen returns a loopback listener and its "host:port".
func listen(t testing.TB) (net.Listener, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().String()
}

// followNodeWriter starts a Node compat writer of blocks blocks (listening;
// folio dials) and a live Fetch of it into a fresh reader; errc gets
// Fetch's result.
func followNodeWriter(t *testing.T, ctx context.Context, blocks, size int) (node *nodePeer, r *book.Book, errc chan error) {
	t.Helper()
	node = startNode(t, map[string]any{"role": "writer", "blocks": blocks, "size": size, "listen": true})
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", node.ready.Port))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := hex.DecodeString(node.ready.Key)
	r = openBook(t, ed25519.PublicKey(key), nil)
	errc = make(chan error, 1)
	go func() { errc <- Fetch(ctx, conn, true, r, &Options{Live: true}) }()
	waitComplete(t, ctx, r, uint64(blocks))
	return node, r, errc
}
