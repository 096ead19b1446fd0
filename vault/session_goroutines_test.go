package vault

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestNoGoroutineWaitsPerSession: a running replication session costs the
// vault no goroutine of its own (the session reports its end), and its end
// is still heard: the vault forgets it and tells its listener. Before, one
// goroutine per session waited on Done: 9,900 at 100 members.
func TestNoGoroutineWaitsPerSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	closed := make(chan peer.ID, 4)
	oa := testOptions("a")
	oa.Listener = &EventListener{SessionClosed: func(r peer.ID, _ error) { closed <- r }}
	a := openVault(t, t.TempDir(), oa)
	b := openVault(t, t.TempDir(), testOptions("b"))
	bk, err := a.DB().Book(ctx, "a-b-task")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bk.Append(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	introduceTo(ctx, t, a, b, bk, 1)
	if len(a.Sessions()) != 1 || len(b.Sessions()) != 1 {
		t.Fatalf("sessions a %v b %v, want one each", a.Sessions(), b.Sessions())
	}
	if n := goroutinesCreatedBy("github.com/folio-p2p/folio/vault.(*Vault).startSession"); n != 0 {
		t.Fatalf("%d goroutines started per session by the vault, want 0", n)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-closed:
		if r != b.ID() {
			t.Fatalf("SessionClosed for %s, want %s", r, b.ID())
		}
	case <-ctx.Done():
		t.Fatal("a never heard its session with b end")
	}
	if s := a.Sessions(); len(s) != 0 {
		t.Fatalf("a still lists sessions %v after b closed", s)
	}
}

// goroutinesCreatedBy counts the goroutines created by the function fn
// (its full name; closures in it included).
func goroutinesCreatedBy(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return bytes.Count(buf, []byte("created by "+fn))
}
