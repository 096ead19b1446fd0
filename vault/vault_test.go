package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/book"
	folioio "github.com/folio-p2p/folio/io"
)

func testOptions(name string) *Options {
	return &Options{
		Name:        name,
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		DisableDHT:  true,
		DisableMDNS: true,
		Accept:      func(peer.ID, folioio.Introduction) error { return nil },
	}
}

func openVault(t testing.TB, dir string, o *Options) *Vault {
	t.Helper()
	v, err := Open(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestIdentityPersistsAndIsPrivate(t *testing.T) {
	dir := t.TempDir()
	v := openVault(t, dir, testOptions("ana"))
	id := v.ID()
	if !v.Created() {
		t.Fatal("first open did not create the vault")
	}
	fi, err := os.Stat(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	p, _, err := v.Profile(context.Background())
	if err != nil || p.Name != "ana" || len(p.Addrs) == 0 {
		t.Fatalf("profile %+v, %v", p, err)
	}
	// A second open in the same directory is refused while the first runs.
	if _, err := Open(context.Background(), dir, testOptions("")); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	v2 := openVault(t, dir, testOptions(""))
	if v2.ID() != id || v2.Created() {
		t.Fatalf("reopened as %s (created %v), want %s", v2.ID(), v2.Created(), id)
	}
	if p, _, _ := v2.Profile(context.Background()); p.Name != "ana" {
		t.Fatalf("name after reopen %q", p.Name)
	}
	v2.Close()
	if err := os.Chmod(filepath.Join(dir, keyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, testOptions("")); !errors.Is(err, ErrKeyPermissions) {
		t.Fatalf("open with world-readable key: %v, want ErrKeyPermissions", err)
	}
}

func TestIntroduceReplicates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := openVault(t, t.TempDir(), testOptions("a"))
	b := openVault(t, t.TempDir(), testOptions("b"))
	bk, err := a.DB().Book(ctx, "a-b-task")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := bk.Append(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	rb := introduceTo(ctx, t, a, b, bk, 100)
	if _, err := bk.Append(ctx, []byte("live")); err != nil {
		t.Fatal(err)
	}
	if err := rb.Wait(ctx, 101); err != nil {
		t.Fatal(err)
	}
	got, err := rb.Get(ctx, 100, &book.GetOptions{})
	if err != nil || string(got) != "live" {
		t.Fatalf("page 100 = %q, %v", got, err)
	}
	rep, err := rb.Audit(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("audit %+v %v", rep, err)
	}
}

// introduceTo connects a to b, introduces bk and waits until b holds its
// first pages pages; it returns b's copy.
func introduceTo(ctx context.Context, t *testing.T, a, b *Vault, bk *book.Book, pages uint64) *book.Book {
	t.Helper()
	if err := a.Connect(b.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Introduce(ctx, b.ID(), folioio.Introduction{Key: bk.Key()}); err != nil {
		t.Fatal(err)
	}
	rb, err := b.DB().OpenKey(ctx, bk.Key())
	if err != nil {
		t.Fatal(err)
	}
	if err := rb.Wait(ctx, pages); err != nil {
		t.Fatal(err)
	}
	return rb
}
