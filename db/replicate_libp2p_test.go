package db

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
)

// Replication over libp2p streams: the stream is handed to DB.Replicate as
// it is (db never imports folio's io layer; the caller gives it the
// stream and both peer IDs).

// serveReplication makes h answer replication streams of d, offering
// books; each new session is sent on the returned channel, and an error
// starting one on errs.
func serveReplication(h host.Host, d *DB, books ...ed25519.PublicKey) (<-chan *Session, <-chan error) {
	sessions := make(chan *Session, 4)
	errs := make(chan error, 4)
	h.SetStreamHandler(ProtocolID, func(s network.Stream) {
		sess, err := d.Replicate(context.Background(), s, ReplicateOptions{
			LocalID:  []byte(h.ID()),
			RemoteID: []byte(s.Conn().RemotePeer()),
			Books:    books,
		})
		if err != nil {
			s.Reset()
			errs <- err
			return
		}
		sessions <- sess
	})
	return sessions, errs
}

// replicateTo opens a replication stream from h to remote and runs a
// session of d on it that follows books.
func replicateTo(ctx context.Context, h host.Host, remote peer.ID, d *DB, books ...ed25519.PublicKey) (*Session, error) {
	s, err := h.NewStream(ctx, remote, ProtocolID)
	if err != nil {
		return nil, err
	}
	sess, err := d.Replicate(ctx, s, ReplicateOptions{LocalID: []byte(h.ID()), RemoteID: []byte(remote), Books: books})
	if err != nil {
		s.Reset()
		return nil, err
	}
	return sess, nil
}

func TestReplicateOverMocknet(t *testing.T) {
	ctx := context.Background()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	wh, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	rh, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := mn.ConnectPeers(rh.ID(), wh.ID()); err != nil {
		t.Fatal(err)
	}

	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	w, err := wdb.Book(ctx, "log")
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	for i := 0; i < n; i += 250 {
		batch := make([][]byte, 250)
		for j := range batch {
			batch[j] = libp2pPage(uint64(i + j))
		}
		if _, err := w.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
	}
	r, err := rdb.OpenKey(ctx, w.Key())
	if err != nil {
		t.Fatal(err)
	}

	served, serveErrs := serveReplication(wh, wdb, w.Key())
	rs, err := replicateTo(ctx, rh, wh.ID(), rdb, w.Key())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	var ws *Session
	select {
	case ws = <-served:
		t.Cleanup(func() { ws.Close() })
	case err := <-serveErrs:
		t.Fatalf("writer: replicate: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the writer host never got the stream")
	}

	waitLength(t, r, n)
	waitPages(t, r, n)
	checkLibp2pPages(t, r, 0, n)

	// Live: every append reaches the reader and its local subscribers.
	sub := r.Subscribe()
	defer sub.Close()
	for i := uint64(n); i < n+100; i++ {
		if _, err := w.Append(ctx, libp2pPage(i)); err != nil {
			t.Fatal(err)
		}
		waitSubscribed(t, sub, i+1)
	}
	waitPages(t, r, n+100)
	checkLibp2pPages(t, r, n, n+100)
	auditClean(t, r)
	if err := rs.Err(); err != nil {
		t.Fatalf("reader session: %v", err)
	}
	if err := ws.Err(); err != nil {
		t.Fatalf("writer session: %v", err)
	}
}

// waitSubscribed waits until sub reports a length of at least n.
func waitSubscribed(t testing.TB, sub *book.Subscription, n uint64) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case u, ok := <-sub.C:
			if !ok {
				t.Fatalf("subscription closed waiting for length %d", n)
			}
			if u.Length >= n {
				return
			}
		case <-timeout:
			t.Fatalf("subscription never reported length %d", n)
		}
	}
}

// libp2pPage returns page i of the books these tests replicate: its index,
// then filler of a size that varies with i.
func libp2pPage(i uint64) []byte {
	p := fmt.Appendf(nil, "libp2p page %d:", i)
	for len(p) < 64+int(i*53%1500) {
		p = append(p, byte(i*13+uint64(len(p))))
	}
	return p
}

// checkLibp2pPages checks that r holds pages [from, to) with the right bytes.
func checkLibp2pPages(t testing.TB, r *book.Book, from, to uint64) {
	t.Helper()
	for i := from; i < to; i++ {
		p, err := r.Get(context.Background(), i, &book.GetOptions{LocalOnly: true})
		if err != nil || !bytes.Equal(p, libp2pPage(i)) {
			t.Fatalf("page %d: %q, %v", i, p, err)
		}
	}
}

// The two-process test: the test binary re-executed with
// -test.run=^TestLibp2pWriterProcess$ and FOLIO_LIBP2P_WRITER set to a
// directory is the writer. It prints
//
//	ADDR <multiaddr>/p2p/<peer id>
//	KEY <book key, hex>
//	LEN <length>            (after every append)
//	FINAL <length>          (once its stdin closed; appends have stopped)
//
// and exits 0 once the reader has closed the replication stream.
const libp2pWriterEnv = "FOLIO_LIBP2P_WRITER"

func newLoopbackHost() (host.Host, error) {
	return libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
}

// TestLibp2pWriterProcess is the child process; it does nothing in a
// normal run.
func TestLibp2pWriterProcess(t *testing.T) {
	dir := os.Getenv(libp2pWriterEnv)
	if dir == "" {
		t.Skip("helper process of TestReplicateLibp2pTwoProcesses")
	}
	if err := libp2pWriter(dir, os.Stdin, os.Stdout); err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
}

func libp2pWriter(dir string, stdin io.Reader, stdout io.Writer) error {
	ctx := context.Background()
	d, err := Open(dir, &Options{NoSync: true})
	if err != nil {
		return err
	}
	defer d.Close()
	w, err := d.Book(ctx, "live")
	if err != nil {
		return err
	}
	h, err := newLoopbackHost()
	if err != nil {
		return err
	}
	defer h.Close()
	served, serveErrs := serveReplication(h, d, w.Key())
	fmt.Fprintf(stdout, "ADDR %s/p2p/%s\n", h.Addrs()[0], h.ID())
	fmt.Fprintf(stdout, "KEY %s\n", hex.EncodeToString(w.Key()))

	stdinClosed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(stdinClosed)
	}()
	safety := time.After(2 * time.Minute) // in case the parent is gone
	tick := time.NewTicker(3 * time.Millisecond)
	defer tick.Stop()
	var sess *Session
appending:
	for {
		select {
		case <-tick.C:
			n := w.Length()
			pages := make([][]byte, 1+n%3) // batches of 1 to 3 pages
			for i := range pages {
				pages[i] = libp2pPage(n + uint64(i))
			}
			res, err := w.Append(ctx, pages...)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "LEN %d\n", res.Length)
		case sess = <-served:
		case err := <-serveErrs:
			return fmt.Errorf("replicate: %w", err)
		case <-stdinClosed:
			break appending
		case <-safety:
			return fmt.Errorf("the parent never closed stdin")
		}
	}
	fmt.Fprintf(stdout, "FINAL %d\n", w.Length())
	if sess == nil {
		select {
		case sess = <-served:
		default:
		}
	}
	if sess == nil {
		return fmt.Errorf("no reader connected")
	}
	select {
	case <-sess.Done():
		return sess.Err()
	case <-safety:
		return fmt.Errorf("the reader never closed the stream")
	}
}

func TestReplicateLibp2pTwoProcesses(t *testing.T) {
	if os.Getenv(libp2pWriterEnv) != "" {
		t.Skip("in the helper process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := helperCmd("TestLibp2pWriterProcess", libp2pWriterEnv+"="+t.TempDir())
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
	watchdog := time.AfterFunc(90*time.Second, func() { cmd.Process.Kill() })
	defer watchdog.Stop()
	defer cmd.Process.Kill() // no-op once it exited

	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		for line := range lines {
			if v, ok := strings.CutPrefix(line, prefix+" "); ok {
				return v
			}
			if strings.HasPrefix(line, "ERROR") {
				t.Fatalf("writer: %s", line)
			}
		}
		t.Fatalf("writer exited before printing %s", prefix)
		return ""
	}
	addr, err := peer.AddrInfoFromString(next("ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := hex.DecodeString(next("KEY"))
	if err != nil || len(key) != ed25519.PublicKeySize {
		t.Fatalf("writer printed key %x: %v", key, err)
	}

	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	r, err := rdb.OpenKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newLoopbackHost()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Connect(ctx, *addr); err != nil {
		t.Fatal(err)
	}
	sess, err := replicateTo(ctx, h, addr.ID, rdb, ed25519.PublicKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()

	// Follow the writer for a while: every reported length must arrive.
	var reported []uint64
	for len(reported) < 150 {
		n, err := strconv.ParseUint(next("LEN"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		reported = append(reported, n)
	}
	waitLength(t, r, reported[len(reported)-1])
	stdin.Close()
	final, err := strconv.ParseUint(next("FINAL"), 10, 64)
	if err != nil || final < reported[len(reported)-1] {
		t.Fatalf("writer's final length %d (%v), it had reported %d", final, err, reported[len(reported)-1])
	}
	waitLength(t, r, final)
	waitPages(t, r, final)
	checkLibp2pPages(t, r, 0, final)
	auditClean(t, r)
	if err := sess.Err(); err != nil {
		t.Fatalf("reader session: %v", err)
	}

	// Closing the stream ends the writer's session and the writer exits 0.
	sess.Close()
	for range lines { // drain until the child closes stdout
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("writer process: %v", err)
	}
	t.Logf("replicated %d pages (%d appends reported) from another process", final, len(reported))
}
