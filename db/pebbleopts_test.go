package db

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestTablesOfOlderOptionsRead: a DB whose tables were written with the
// options before single-level indexes (Pebble's 4 KiB index blocks, so
// each table's index in two levels) opens and reads every page, and takes
// more, with today's options; and raw Pebble with the older options reads
// every page record of tables written with today's (an older folio
// opening a newer DB).
func TestTablesOfOlderOptionsRead(t *testing.T) {
	ctx := context.Background()
	const n = 4000                  // 4 MB of pages: tables with more than 4 KiB of index
	page := func(i uint64) []byte { // incompressible, so tables are as large as the pages
		p := make([]byte, 1024)
		rand.NewChaCha8([32]byte{byte(i), byte(i >> 8)}).Read(p)
		return p
	}
	src := filepath.Join(t.TempDir(), "src")
	d, err := Open(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Book(ctx, "compat")
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < n; i += 500 {
		batch := make([][]byte, 500)
		for k := range batch {
			batch[k] = page(i + uint64(k))
		}
		if _, err := b.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	olderOpts := func() *pebble.Options {
		po := todaysOptions()
		for i := range po.Levels {
			po.Levels[i].IndexBlockSize = 4 << 10 // Pebble's default, the older options'
		}
		return po
	}
	older := filepath.Join(t.TempDir(), "older")
	copyRaw(t, src, older, olderOpts(), true)

	// Today's options over the older tables: every page, an audit, and
	// more pages appended beside them.
	d, err = Open(older, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if b, err = d.Book(ctx, "compat"); err != nil || b.Length() != n {
		t.Fatalf("book over older tables: %v, length %d, want %d", err, b.Length(), n)
	}
	for i := range uint64(n) {
		if got, err := b.Get(ctx, i, nil); err != nil || !bytes.Equal(got, page(i)) {
			t.Fatalf("page %d over older tables: %v, %d bytes, not the page appended", i, err, len(got))
		}
	}
	if _, err := b.Append(ctx, page(n), page(n+1)); err != nil {
		t.Fatal(err)
	}
	if err := d.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err := b.Audit(ctx); err != nil || !rep.OK() {
		t.Fatalf("audit over older tables: %v %+v", err, rep)
	}

	// The older options over today's tables.
	newer := filepath.Join(t.TempDir(), "newer")
	copyRaw(t, src, newer, todaysOptions(), false)
	po := olderOpts()
	po.ReadOnly = true
	pdb, err := pebble.Open(newer, po)
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	it, err := pdb.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	var pages uint64
	for it.First(); it.Valid(); it.Next() {
		if bytes.HasSuffix(it.Value(), page(pages)) {
			pages++
		}
	}
	if err := it.Close(); err != nil || pages != n {
		t.Fatalf("older options over today's tables: %d page records (%v), want %d", pages, err, n)
	}
}

// todaysOptions returns the Pebble options Open uses by default (with
// Pebble's own small cache).
func todaysOptions() *pebble.Options {
	o := (&Options{}).withDefaults()
	return o.pebbleOptions(nil)
}

// copyRaw writes every record of the DB in src into a new DB in dst with
// po's tables, and checks that its tables' indexes are in two levels
// exactly when wantTwo (so the test reads the tables it means to).
func copyRaw(t *testing.T, src, dst string, po *pebble.Options, wantTwo bool) {
	t.Helper()
	from, err := pebble.Open(src, &pebble.Options{ReadOnly: true, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	to, err := pebble.Open(dst, po)
	if err != nil {
		t.Fatal(err)
	}
	defer to.Close()
	it, err := from.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	wb := to.NewBatch()
	for it.First(); it.Valid(); it.Next() {
		wb.Set(it.Key(), it.Value(), nil)
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := to.Flush(); err != nil {
		t.Fatal(err)
	}
	levels, err := to.SSTables(pebble.WithProperties())
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for _, level := range levels {
		for _, tb := range level {
			if tb.Size < 1<<20 {
				continue // a small table has one small index block either way
			}
			tables++
			if two := tb.Properties.IndexPartitions > 0; two != wantTwo {
				t.Fatalf("table %s (%d bytes): two-level index %v, want %v", tb.FileNum, tb.Size, two, wantTwo)
			}
		}
	}
	if tables == 0 {
		t.Fatal("no table over 1 MiB: nothing checked")
	}
}

// syncToFS counts the SyncTo calls on write-ahead logs: the background
// write-back walBytesPerSync asks for.
type syncToFS struct {
	vfs.FS
	syncTos *atomic.Int64
}

func (fs syncToFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.wrap(name, f), err
}

func (fs syncToFS) ReuseForWrite(old, name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(old, name, c)
	return fs.wrap(name, f), err
}

func (fs syncToFS) wrap(name string, f vfs.File) vfs.File {
	if f == nil || !strings.HasSuffix(name, ".log") {
		return f
	}
	return syncToFile{File: f, n: fs.syncTos}
}

type syncToFile struct {
	vfs.File
	n *atomic.Int64
}

func (f syncToFile) SyncTo(off int64) (bool, error) {
	f.n.Add(1)
	return f.File.SyncTo(off)
}

// An unsynced writer's log is written back as it grows, not all at once
// when its memtable rotates (Pebble syncs the old log then, on the
// committing goroutine).
func TestWALWrittenBackAsItGrows(t *testing.T) {
	var n atomic.Int64
	d, err := Open(t.TempDir(), &Options{FS: syncToFS{FS: vfs.Default, syncTos: &n}, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b, err := d.Book(context.Background(), "log")
	if err != nil {
		t.Fatal(err)
	}
	pages := make([][]byte, 256)
	for i := range pages {
		pages[i] = bytes.Repeat([]byte{byte(i)}, 1024)
	}
	for range 96 { // 24 MiB of pages: the last logs (memtables double from 256 KiB) pass 8 MiB
		if _, err := b.Append(context.Background(), pages...); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Load(); got < 2 {
		t.Fatalf("%d write-backs of the log for 24 MiB written unsynced; want one per MiB past the first 2 of each log", got)
	}
}
