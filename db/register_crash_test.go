package db

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestRegisterDurability: a book of our own is durable once Book returns;
// another's book, met with OpenKey, is catalogued like its replicated
// pages: synced within ReplicatedSyncDelay, by any synced write after it,
// or at once when the delay is negative.
func TestRegisterDurability(t *testing.T) {
	ctx := context.Background()
	keepNothing := vfs.CrashCloneCfg{UnsyncedDataPercent: 0}
	remote, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T, delay time.Duration) (*vfs.MemFS, *DB) {
		fs := vfs.NewCrashableMem()
		return fs, openTest(t, "/r", &Options{FS: fs, ReplicatedSyncDelay: delay})
	}
	// known reports whether a crash now keeps key in the catalogue.
	known := func(t *testing.T, fs *vfs.MemFS, key ed25519.PublicKey) bool {
		t.Helper()
		d := openTest(t, "/r", &Options{FS: fs.CrashClone(keepNothing)})
		defer d.Close()
		_, err := d.Info(key)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	t.Run("own", func(t *testing.T) {
		fs, d := open(t, time.Hour)
		b, err := d.Book(ctx, "mine")
		if err != nil {
			t.Fatal(err)
		}
		if !known(t, fs, b.Key()) {
			t.Fatal("a book Book returned, empty, was lost in a crash")
		}
	})
	t.Run("remote-unsynced", func(t *testing.T) {
		fs, d := open(t, time.Hour)
		if _, err := d.OpenKey(ctx, remote); err != nil {
			t.Fatal(err)
		}
		if known(t, fs, remote) {
			t.Fatal("with no sync for an hour a crash kept another's book: its entry was synced")
		}
		// Lost, it is met again: the crashed copy opens it anew.
		c := openTest(t, "/r", &Options{FS: fs.CrashClone(keepNothing)})
		if b, err := c.OpenKey(ctx, remote); err != nil || b.Length() != 0 {
			t.Fatalf("met again after the crash: %v", err)
		}
	})
	t.Run("remote-delay", func(t *testing.T) {
		fs, d := open(t, 10*time.Millisecond)
		if _, err := d.OpenKey(ctx, remote); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second) // the timer may fire late under load
		for !known(t, fs, remote) {
			if time.Now().After(deadline) {
				t.Fatal("20 s after OpenKey a crash still loses the book: never synced")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("remote-synced-write", func(t *testing.T) {
		fs, d := open(t, time.Hour)
		if _, err := d.OpenKey(ctx, remote); err != nil {
			t.Fatal(err)
		}
		own, err := d.Book(ctx, "marker")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := own.Append(ctx, []byte("met")); err != nil {
			t.Fatal(err)
		}
		if !known(t, fs, remote) {
			t.Fatal("a synced write after OpenKey did not make the book durable")
		}
	})
	t.Run("remote-negative", func(t *testing.T) {
		fs, d := open(t, -1)
		if _, err := d.OpenKey(ctx, remote); err != nil {
			t.Fatal(err)
		}
		if !known(t, fs, remote) {
			t.Fatal("syncing every proof, a crash lost another's book OpenKey returned")
		}
	})
}
