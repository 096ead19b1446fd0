package secretstream

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// pair returns the two ends of a Stream over a loopback TCP connection.
func pair(t *testing.T, oi, or *Options) (*Stream, *Stream) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan *Stream, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		s, err := New(context.Background(), c, false, or)
		if err != nil {
			c.Close()
		}
		ch <- s
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), c, true, oi)
	if err != nil {
		t.Fatal(err)
	}
	b := <-ch
	if b == nil {
		t.Fatal("responder failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestStreamMessages(t *testing.T) {
	a, b := pair(t, nil, nil)
	if a.HandshakeHash() != b.HandshakeHash() {
		t.Fatal("handshake hashes differ")
	}
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i)
	}
	go func() {
		_ = a.Write([]byte("one"))
		_ = a.Write(nil) // keep-alive: never seen by Read
		_ = a.Write(big)
	}()
	if m, err := b.Read(); err != nil || string(m) != "one" {
		t.Fatalf("first: %q %v", m, err)
	}
	if m, err := b.Read(); err != nil || len(m) != len(big) || m[12345] != big[12345] {
		t.Fatalf("big: %d %v", len(m), err)
	}
}

// TestKeepAliveAndTimeout: keep-alives hold an idle stream open past the
// peer's timeout; without them the timeout closes it.
func TestKeepAliveAndTimeout(t *testing.T) {
	a, b := pair(t, &Options{KeepAlive: 20 * time.Millisecond}, &Options{Timeout: 150 * time.Millisecond, KeepAlive: -1})
	go func() {
		time.Sleep(400 * time.Millisecond)
		_ = a.Write([]byte("late"))
	}()
	if m, err := b.Read(); err != nil || string(m) != "late" {
		t.Fatalf("after idle with keep-alives: %q %v", m, err)
	}
	_, d := pair(t, &Options{KeepAlive: -1}, &Options{Timeout: 100 * time.Millisecond, KeepAlive: -1})
	start := time.Now()
	if _, err := d.Read(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("silent peer: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("timeout took too long")
	}
}

// TestMessageLimit: a frame announcing more than MaxMessage is refused
// before its body is read.
func TestMessageLimit(t *testing.T) {
	a, b := pair(t, nil, &Options{MaxMessage: 1000})
	go func() { _ = a.Write(make([]byte, 1001)) }()
	if _, err := b.Read(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
	if err := b.Write(make([]byte, 1001)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized write: %v", err)
	}
}

// TestBadHeader: a peer whose header frame carries the wrong stream id
// is refused.
func TestBadHeader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		_, err = New(context.Background(), c, false, nil)
		errc <- err
	}()
	c, _ := net.Dial("tcp", ln.Addr().String())
	defer c.Close()
	s := &Stream{conn: c, rd: bufio.NewReader(c), initiator: false} // claims the responder's id
	if s.hs, err = handshakeOnly(c); err != nil {
		t.Fatal(err)
	}
	_ = s.exchangeHeaders(context.Background())
	if err := <-errc; !errors.Is(err, ErrBadHeader) {
		t.Fatalf("wrong-role id: %v", err)
	}
}
