package hypercore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
)

// connPair returns both ends of a loopback TCP connection.
func connPair(t *testing.T) (dialled, accepted net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return d, <-ch
}

func pages(n int, prefix string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

func sameBooks(t *testing.T, a, b *book.Book) {
	t.Helper()
	ha, _ := a.Head()
	hb, _ := b.Head()
	if ha.Length != hb.Length || ha.TreeHash != hb.TreeHash {
		t.Fatalf("heads differ: %d %x / %d %x", ha.Length, ha.TreeHash, hb.Length, hb.TreeHash)
	}
	for i := uint64(0); i < ha.Length; i++ {
		pa, err1 := a.Get(context.Background(), i, &book.GetOptions{})
		pb, err2 := b.Get(context.Background(), i, &book.GetOptions{})
		if err1 != nil || err2 != nil || !bytes.Equal(pa, pb) {
			t.Fatalf("page %d: %q %v / %q %v", i, pa, err1, pb, err2)
		}
	}
}

// TestGoToGo: folio serves folio over the hypercore protocol in both Noise
// roles, then live appends reach a live fetcher.
func TestGoToGo(t *testing.T) {
	for _, readerDials := range []bool{true, false} {
		_, sk, _ := ed25519.GenerateKey(nil)
		w := writer(t, sk, pages(1000, "p")...)
		r := openBook(t, w.Key(), nil)
		a, b := connPair(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		errc := make(chan error, 1)
		go func() { errc <- Serve(ctx, b, !readerDials, w, nil) }()
		if err := Fetch(ctx, a, readerDials, r, nil); err != nil {
			t.Fatalf("fetch (reader dials: %v): %v", readerDials, err)
		}
		sameBooks(t, w, r)
		if err := <-errc; err != nil {
			t.Fatalf("serve: %v", err)
		}
		cancel()
	}
}

func TestGoToGoLive(t *testing.T) {
	_, sk, _ := ed25519.GenerateKey(nil)
	w := writer(t, sk, pages(5, "p")...)
	r := openBook(t, w.Key(), nil)
	a, b := connPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() { _ = Serve(ctx, b, false, w, nil) }()
	errc := make(chan error, 1)
	go func() { errc <- Fetch(ctx, a, true, r, &Options{Live: true}) }()
	if err := r.Wait(ctx, 5); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := w.Append(ctx, pages(7, fmt.Sprintf("live%d", i))...); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Wait(ctx, 26); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, _ := r.Contiguous(0); n == 26 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("live pages did not all arrive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sameBooks(t, w, r)
	cancel()
	<-errc
}

// TestFetchEmptyCore: a core with nothing signed yet is fetched at once.
func TestFetchEmptyCore(t *testing.T) {
	_, sk, _ := ed25519.GenerateKey(nil)
	w := writer(t, sk)
	r := openBook(t, w.Key(), nil)
	a, b := connPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { _ = Serve(ctx, b, false, w, nil) }()
	if err := Fetch(ctx, a, true, r, nil); err != nil {
		t.Fatal(err)
	}
}
