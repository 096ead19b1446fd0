package io

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	stdio "io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Three OS processes: the test binary re-executed with
// -test.run=^TestHelperProcessSwarm$ and FOLIO_IO_CHILD naming its role.
//
// The "boot" child runs a DHT server with no bootstrap peers and prints
//
//	ID <peer id>
//	ADDR <multiaddr>/p2p/<peer id>
//
// Each "peer" child gets only the boot address (FOLIO_IO_BOOT), a topic
// (FOLIO_IO_TOPIC, hex) and a book key (FOLIO_IO_BOOK, hex); it prints
//
//	ID <peer id>
//	HANDSHAKEN <remote peer id> shared=<n> topics=<n>
//
// the latter once a handshake names both the topic and the book. Every
// child exits 0 once its stdin is closed.
const procChildEnv = "FOLIO_IO_CHILD"

// procSafety bounds a child's life in case the parent is gone.
const procSafety = 3 * time.Minute

// TestHelperProcessSwarm is the child process; it does nothing in a
// normal run.
func TestHelperProcessSwarm(t *testing.T) {
	var err error
	switch role := os.Getenv(procChildEnv); role {
	case "":
		t.Skip("helper process of TestProcessesMeetThroughDHT")
	case "boot":
		err = procBoot(os.Stdin, os.Stdout)
	case "peer":
		err = procPeer(os.Stdin, os.Stdout)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
}

// procOptions are a child's swarm options: loopback, DHT server, no mDNS,
// quick discovery rounds.
func procOptions(o Options) *Options {
	o.HostOptions.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	o.DisableMDNS = true
	o.DHTServer = true
	o.Backoff = []time.Duration{300 * time.Millisecond, time.Second, 2 * time.Second}
	o.RefreshInterval = 2 * time.Second
	return &o
}

// procStdinClosed is closed when stdin reaches its end.
func procStdinClosed(stdin stdio.Reader) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		stdio.Copy(stdio.Discard, stdin)
		close(done)
	}()
	return done
}

func procBoot(stdin stdio.Reader, stdout stdio.Writer) error {
	s, err := New(context.Background(), procOptions(Options{}))
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, "ID %s\n", s.ID())
	fmt.Fprintf(stdout, "ADDR %s/p2p/%s\n", s.Host().Addrs()[0], s.ID())
	select {
	case <-procStdinClosed(stdin):
		return nil
	case <-time.After(procSafety):
		return fmt.Errorf("the parent never closed stdin")
	}
}

func procPeer(stdin stdio.Reader, stdout stdio.Writer) error {
	boot, err := peer.AddrInfoFromString(os.Getenv("FOLIO_IO_BOOT"))
	if err != nil {
		return fmt.Errorf("FOLIO_IO_BOOT: %w", err)
	}
	topic, err := hex.DecodeString(os.Getenv("FOLIO_IO_TOPIC"))
	if err != nil {
		return fmt.Errorf("FOLIO_IO_TOPIC: %w", err)
	}
	key, err := hex.DecodeString(os.Getenv("FOLIO_IO_BOOK"))
	if err != nil || len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("FOLIO_IO_BOOK: %d bytes, %v", len(key), err)
	}
	handshakes := make(chan Handshake, 64)
	s, err := New(context.Background(), procOptions(Options{
		BootstrapPeers: []peer.AddrInfo{*boot},
		Offer:          offerOf(key),
		Listener: &EventListener{Handshaken: func(h Handshake) {
			select {
			case handshakes <- h:
			default:
			}
		}},
	}))
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, "ID %s\n", s.ID())
	if err := s.Join(topic, JoinOptions{}); err != nil {
		return err
	}
	safety := time.After(procSafety)
	for found := false; !found; {
		select {
		case h := <-handshakes:
			if procNames(h, topic, key) {
				fmt.Fprintf(stdout, "HANDSHAKEN %s shared=%d topics=%d\n", h.Remote, len(h.Shared), len(h.Topics))
				found = true
			}
		case <-safety:
			return fmt.Errorf("no handshake naming the topic and the book")
		}
	}
	select {
	case <-procStdinClosed(stdin):
		return nil
	case <-safety:
		return fmt.Errorf("the parent never closed stdin")
	}
}

// procNames reports whether h names topic and the book key.
func procNames(h Handshake, topic, key []byte) bool {
	t, b := false, false
	for _, x := range h.Topics {
		t = t || bytes.Equal(x[:], topic)
	}
	for _, s := range h.Shared {
		b = b || bytes.Equal(s.Key, key)
	}
	return t && b
}

// procChild is one running child, its stdout split into lines.
type procChild struct {
	name    string
	cmd     *exec.Cmd
	stdin   stdio.WriteCloser
	lines   chan string
	exited  chan struct{} // closed once the child exited; then waitErr is set
	waitErr error
	stderr  procBuffer
}

type procBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *procBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *procBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// procStart runs this test binary as the child role, with env added; the
// child is killed when the test ends.
func procStart(t *testing.T, name, role string, env ...string) *procChild {
	t.Helper()
	c := &procChild{name: name, lines: make(chan string, 1024), exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperProcessSwarm$", "-test.count=1")
	c.cmd.Env = append(os.Environ(), append(env, procChildEnv+"="+role)...)
	c.cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill() // no-op once it exited
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: not gone 10 s after kill", name)
		}
		if t.Failed() {
			t.Logf("%s's stderr:\n%s", name, c.stderr.String())
		}
	})
	return c
}

// next returns the rest of the child's next line starting with prefix,
// skipping others; it fails on an ERROR line, an exit, or the deadline.
func (c *procChild) next(t *testing.T, prefix string, deadline <-chan time.Time) string {
	t.Helper()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("%s exited before printing %s", c.name, prefix)
			}
			if v, ok := strings.CutPrefix(line, prefix+" "); ok {
				return v
			}
			if strings.HasPrefix(line, "ERROR") {
				t.Fatalf("%s: %s", c.name, line)
			}
		case <-deadline:
			t.Fatalf("%s printed no %s in time", c.name, prefix)
		}
	}
}

// finish waits for the child, its stdin closed, to exit 0.
func (c *procChild) finish(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	for range c.lines {
	}
	select {
	case <-c.exited:
		if c.waitErr != nil {
			t.Fatalf("%s: %v", c.name, c.waitErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit 30 s after its stdin closed", c.name)
	}
}

// TestProcessesMeetThroughDHT: two peers in two processes, each told only
// the address of a third, find each other under a topic through its DHT
// and handshake, sharing the book both offer.
func TestProcessesMeetThroughDHT(t *testing.T) {
	if os.Getenv(procChildEnv) != "" {
		t.Skip("in a helper process")
	}
	start := time.Now()
	deadline := time.After(60 * time.Second)
	boot := procStart(t, "boot", "boot")
	bootAddr := boot.next(t, "ADDR", deadline)
	env := []string{
		"FOLIO_IO_BOOT=" + bootAddr,
		"FOLIO_IO_TOPIC=" + hex.EncodeToString(randomTopic()),
		"FOLIO_IO_BOOK=" + hex.EncodeToString(randomKey()),
	}
	a := procStart(t, "peer A", "peer", env...)
	b := procStart(t, "peer B", "peer", env...)
	aID, bID := a.next(t, "ID", deadline), b.next(t, "ID", deadline)
	if aID == bID {
		t.Fatalf("both peers are %s", aID)
	}
	if got, want := a.next(t, "HANDSHAKEN", deadline), bID+" shared=1 topics=1"; got != want {
		t.Fatalf("A: HANDSHAKEN %s, want %s", got, want)
	}
	if got, want := b.next(t, "HANDSHAKEN", deadline), aID+" shared=1 topics=1"; got != want {
		t.Fatalf("B: HANDSHAKEN %s, want %s", got, want)
	}
	t.Logf("handshaken after %v", time.Since(start).Round(time.Millisecond))
	children := []*procChild{a, b, boot}
	for _, c := range children {
		c.stdin.Close() // all at once: each exit may take a while under -race
	}
	for _, c := range children {
		c.finish(t)
	}
}
