package db

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestNoWALRecycling: with the option, a closed DB keeps no obsolete
// write-ahead log (and its cleaner still deletes, not archives); without
// it, Pebble keeps some for reuse (the control that shows the test can
// fail).
func TestNoWALRecycling(t *testing.T) {
	for _, noRecycle := range []bool{false, true} {
		dir := t.TempDir()
		d, err := Open(dir, &Options{MemTableSize: 256 << 10, NoWALRecycling: noRecycle})
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.Book(context.Background(), "wal")
		if err != nil {
			t.Fatal(err)
		}
		page := make([]byte, 16<<10)
		for i := range 200 { // about 3 MB: a dozen memtable rotations
			page[0], page[1] = byte(i), byte(i>>8)
			if _, err := b.Append(context.Background(), page); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		if _, err := os.Stat(filepath.Join(dir, "archive")); err == nil {
			t.Errorf("NoWALRecycling=%v: files archived, not deleted", noRecycle)
		}
		switch {
		case noRecycle && len(logs) > 1:
			t.Errorf("NoWALRecycling: %d logs left after Close, want at most the live one: %v", len(logs), logs)
		case !noRecycle && len(logs) < 2:
			t.Errorf("recycling: %d logs left, want the live one and recycled ones (the control)", len(logs))
		}
		d, err = Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b, err = d.Book(context.Background(), "wal"); err != nil || b.Length() != 200 {
			t.Fatalf("NoWALRecycling=%v: reopened book: %v, %d pages, want 200", noRecycle, err, b.Length())
		}
		d.Close()
	}
}
