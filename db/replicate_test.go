package db

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
)

// pipePair starts a replication session between a and b over net.Pipe.
func pipePair(t testing.TB, a, b *DB, aID, bID string, ao, bo ReplicateOptions) (*Session, *Session) {
	t.Helper()
	ca, cb := net.Pipe()
	ao.LocalID, ao.RemoteID = []byte(aID), []byte(bID)
	bo.LocalID, bo.RemoteID = []byte(bID), []byte(aID)
	ctx := context.Background()
	sa, err := a.Replicate(ctx, ca, ao)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Replicate(ctx, cb, bo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sa.Close(); sb.Close() })
	return sa, sb
}

func waitLength(t testing.TB, b *book.Book, n uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Wait(ctx, n); err != nil {
		t.Fatalf("waiting for length %d (have %d): %v", n, b.Length(), err)
	}
}

// waitPages waits until the reader holds pages [0, n).
func waitPages(t testing.TB, b *book.Book, n uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := b.Contiguous(0)
		if err != nil {
			t.Fatal(err)
		}
		if c >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("reader holds %d of %d pages", c, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestReplicateFollowOverPipe(t *testing.T) {
	ctx := context.Background()
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	w, err := wdb.Book(ctx, "log")
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	for i := 0; i < n; i += 500 {
		batch := make([][]byte, 500)
		for j := range batch {
			batch[j] = []byte(fmt.Sprintf("page %d", i+j))
		}
		if _, err := w.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
	}
	r, err := rdb.OpenKey(ctx, w.Key())
	if err != nil {
		t.Fatal(err)
	}
	pipePair(t, wdb, rdb, "writer", "reader", ReplicateOptions{Books: []ed25519.PublicKey{w.Key()}}, ReplicateOptions{Books: []ed25519.PublicKey{w.Key()}})
	waitLength(t, r, n)
	waitPages(t, r, n)
	for _, i := range []uint64{0, 1, 4999, n - 1} {
		p, err := r.Get(ctx, i, &book.GetOptions{LocalOnly: true})
		if err != nil || string(p) != fmt.Sprintf("page %d", i) {
			t.Fatalf("page %d = %q, %v", i, p, err)
		}
	}
	// Live: every new append reaches the reader.
	sub := r.Subscribe()
	defer sub.Close()
	for i := 0; i < 50; i++ {
		if _, err := w.Append(ctx, []byte(fmt.Sprintf("live %d", i))); err != nil {
			t.Fatal(err)
		}
		waitLength(t, r, uint64(n+i+1))
		waitPages(t, r, uint64(n+i+1))
	}
	p, err := r.Get(ctx, n+49, nil)
	if err != nil || string(p) != "live 49" {
		t.Fatalf("live page = %q, %v", p, err)
	}
	if rep, err := r.Audit(ctx); err != nil || !rep.OK() {
		t.Fatalf("audit: %v %v", err, rep.Problems)
	}
}
