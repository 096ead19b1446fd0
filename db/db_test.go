package db

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func openTest(t testing.TB, dir string, o *Options) *DB {
	t.Helper()
	d, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestNamedBookSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Book(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, []byte("hello"), []byte("world")); err != nil {
		t.Fatal(err)
	}
	key := b.Key()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v, want ErrClosed", err)
	}
	d = openTest(t, dir, nil)
	b2, err := d.Book(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b2.Key(), key) || b2.Length() != 2 || !b2.Writable() {
		t.Fatalf("reopened book: key %x length %d writable %v", b2.Key(), b2.Length(), b2.Writable())
	}
	p, err := b2.Get(ctx, 1, nil)
	if err != nil || string(p) != "world" {
		t.Fatalf("page 1 = %q, %v", p, err)
	}
	in, err := d.LookupDiscoveryKey(b2.DiscoveryKey())
	if err != nil || in.Name != "chat" || !in.Writable {
		t.Fatalf("lookup by discovery key: %+v %v", in, err)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir, nil)
	if _, err := Open(dir, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}
