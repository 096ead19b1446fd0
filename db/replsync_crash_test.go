//go:build unix

package db

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/folio-p2p/folio/book"
)

// Replicated pages are stored without an fsync and synced in groups
// (replsync.go). These tests crash the receiver's filesystem (Pebble's
// crash-simulating vfs) and check what it reopens to. (unix only: the
// pages are kill_test.go's.)

// replCrashSetup is an author DB on a plain memory filesystem and a
// receiver DB on a crashable one, replicating the author's book "kill".
type replCrashSetup struct {
	author, recv *DB
	fs           *vfs.MemFS
	ab           *book.Book
	rb           *book.Book
}

func newReplCrash(t *testing.T, delay time.Duration) *replCrashSetup {
	t.Helper()
	ctx := context.Background()
	r := &replCrashSetup{fs: vfs.NewCrashableMem()}
	r.author = openTest(t, "/a", &Options{FS: vfs.NewMem()})
	r.recv = openTest(t, "/r", &Options{FS: r.fs, ReplicatedSyncDelay: delay})
	var err error
	if r.ab, err = r.author.Book(ctx, "kill"); err != nil {
		t.Fatal(err)
	}
	if r.rb, err = r.recv.OpenKey(ctx, r.ab.Key()); err != nil {
		t.Fatal(err)
	}
	keys := []ed25519.PublicKey{r.ab.Key()}
	pipePair(t, r.author, r.recv, "author", "recv", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys})
	return r
}

// appendKill appends killPage batches to b until its length is at least n.
func appendKill(t *testing.T, b *book.Book, n uint64) {
	t.Helper()
	for b.Length() < n {
		l := b.Length()
		pages := make([][]byte, killBatch(l))
		for i := range pages {
			pages[i] = killPage(l + uint64(i))
		}
		if _, err := b.Append(context.Background(), pages...); err != nil {
			t.Fatal(err)
		}
	}
}

// reopenClone opens the receiver's crashed filesystem and checks its copy
// of the book: a verified prefix of the author's (every page it holds is
// the author's page there, the head verifies, the audit is clean). It
// returns the DB and the book's length.
func reopenClone(t *testing.T, clone vfs.FS, key ed25519.PublicKey, max uint64) (*DB, *book.Book) {
	t.Helper()
	d := openTest(t, "/r", &Options{FS: clone})
	return d, checkReplica(t, d, key, max)
}

// checkReplica checks d's copy of the book with key after a crash: a
// verified prefix of the author's killPage book of length max.
func checkReplica(t *testing.T, d *DB, key ed25519.PublicKey, max uint64) *book.Book {
	t.Helper()
	b, err := d.OpenKey(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	n := b.Length()
	if n > max {
		t.Fatalf("after the crash the receiver has length %d, the author only %d", n, max)
	}
	if h, signed := b.Head(); n > 0 && (!signed || h.Verify(key) != nil) {
		t.Fatalf("after the crash: head of length %d does not verify", n)
	}
	for i := range n {
		p, err := b.Get(context.Background(), i, &book.GetOptions{LocalOnly: true})
		if err != nil {
			continue // a page not fetched yet: a follower may hold the head first
		}
		if !bytes.Equal(p, killPage(i)) {
			t.Fatalf("after the crash page %d is not the author's", i)
		}
	}
	auditClean(t, b)
	return b
}

// TestReplicatedCrashKeepsVerifiedPrefix: the receiver's filesystem
// crashes while pages arrive, keeping a random share of what was not
// synced; it reopens to a verified prefix of the author's book (audit
// clean) and catches up again from the author.
func TestReplicatedCrashKeepsVerifiedPrefix(t *testing.T) {
	base := testSeed(t, "FOLIO_REPLCRASH_SEED", 0)
	for i := range crashIters(t, 12, 4) {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 3))
			// A delay of a few ms makes some syncs happen in the run; an
			// hour makes none.
			delay := []time.Duration{time.Millisecond, 5 * time.Millisecond, time.Hour}[rng.IntN(3)]
			paced := rng.IntN(2) == 0
			r := newReplCrash(t, delay)
			var stop atomic.Bool
			done := make(chan struct{})
			go func() {
				defer close(done)
				for n := uint64(3); !stop.Load() && n < 2000; n += 3 {
					appendKill(t, r.ab, n)
					if paced {
						time.Sleep(100 * time.Microsecond) // so that timed syncs fall among the pages
					}
				}
			}()
			target := uint64(10 + rng.IntN(300))
			for r.rb.Length() < target && r.ab.Length() < 2000 {
				runtime.Gosched()
			}
			percent := []int{0, 10, 50, 90, 100}[rng.IntN(5)]
			r.recv.replSync.syncMu.Lock() // (no sync while the clone is made)
			syncs := r.recv.replSync.syncs
			clone := r.fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: percent, RNG: rand.New(rand.NewPCG(seed, 5))})
			r.recv.replSync.syncMu.Unlock()
			had := r.rb.Length()
			stop.Store(true)
			<-done
			d, b := reopenClone(t, clone, r.ab.Key(), r.ab.Length())
			t.Logf("delay %v, %d syncs before, %d%% of unsynced data kept: the receiver had %d pages, reopened with %d", delay, syncs, percent, had, b.Length())
			// It catches up again from the author.
			catchUp(t, r.author, d, r.ab, b)
		})
	}
}

// TestReplicatedSyncBound: replicated pages are not synced as they are
// stored (a crash keeping nothing unsynced loses them), but within
// ReplicatedSyncDelay; at once by any synced write after them; and each
// as stored with a negative ReplicatedSyncDelay (the behaviour before).
func TestReplicatedSyncBound(t *testing.T) {
	const n = 60
	keepNothing := vfs.CrashCloneCfg{UnsyncedDataPercent: 0}
	t.Run("unsynced", func(t *testing.T) {
		r := newReplCrash(t, time.Hour)
		appendKill(t, r.ab, n)
		waitPages(t, r.rb, n)
		_, b := reopenClone(t, r.fs.CrashClone(keepNothing), r.ab.Key(), n)
		if b.Length() != 0 {
			t.Fatalf("with no sync for an hour a crash kept %d replicated pages: they were synced", b.Length())
		}
	})
	t.Run("delay", func(t *testing.T) {
		r := newReplCrash(t, 10*time.Millisecond)
		appendKill(t, r.ab, n)
		waitPages(t, r.rb, n)
		// The timer syncs within the delay; under load it may fire late,
		// so look until it has (what is asserted is that it comes).
		deadline := time.Now().Add(20 * time.Second)
		for {
			d, b := reopenClone(t, r.fs.CrashClone(keepNothing), r.ab.Key(), n)
			got := b.Length()
			d.Close()
			if got == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("20 s after the pages arrived a crash keeps %d of %d: never synced", got, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("synced-write", func(t *testing.T) {
		r := newReplCrash(t, time.Hour)
		appendKill(t, r.ab, n)
		waitPages(t, r.rb, n)
		own, err := r.recv.Book(context.Background(), "marker")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := own.Append(context.Background(), []byte("read up to 60")); err != nil {
			t.Fatal(err)
		}
		d, b := reopenClone(t, r.fs.CrashClone(keepNothing), r.ab.Key(), n)
		if got, _ := b.Contiguous(0); got != n {
			t.Fatalf("a synced write after %d replicated pages: a crash kept %d of them", n, got)
		}
		if m, err := d.Book(context.Background(), "marker"); err != nil || m.Length() != 1 {
			t.Fatalf("the synced write itself: %v", err)
		}
	})
	t.Run("negative", func(t *testing.T) {
		r := newReplCrash(t, -1)
		appendKill(t, r.ab, n)
		waitPages(t, r.rb, n)
		_, b := reopenClone(t, r.fs.CrashClone(keepNothing), r.ab.Key(), n)
		if got, _ := b.Contiguous(0); got != n {
			t.Fatalf("syncing every proof, a crash kept %d of %d pages", got, n)
		}
	})
}

// catchUp replicates the author's book ab to the reader's copy rb and
// checks that the reader gets every page, the author's, and audits clean.
func catchUp(t *testing.T, author, reader *DB, ab, rb *book.Book) {
	t.Helper()
	keys := []ed25519.PublicKey{ab.Key()}
	pipePair(t, author, reader, "author", "reader-again", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys})
	waitPages(t, rb, ab.Length())
	for i, p := range readAll(t, rb, ab.Length()) {
		if !bytes.Equal(p, killPage(uint64(i))) {
			t.Fatalf("after catching up page %d is not the author's", i)
		}
	}
	auditClean(t, rb)
}
