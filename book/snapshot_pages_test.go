package book

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestSnapshotPages(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	b := newWriter(t, pdb, "a", 1, nil)
	other := newWriter(t, pdb, "b", 2, nil) // a neighbour whose pages must not show
	for i := range 10 {
		if _, err := b.Append(ctx, fmt.Appendf(nil, "page %d", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Append(ctx, []byte("other")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Clear(ctx, 0, 3); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if _, err := b.Append(ctx, []byte("after the snapshot")); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	err = snap.Pages(0, 100, func(i uint64, page []byte) error {
		if want := fmt.Appendf(nil, "page %d", i); !bytes.Equal(page, want) {
			t.Errorf("page %d = %q, want %q", i, page, want)
		}
		got = append(got, i)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[3 4 5 6 7 8 9]" {
		t.Fatalf("pages %v, want 3 to 9 (cleared ones skipped, later ones not seen)", got)
	}
	stop := errors.New("stop")
	n := 0
	if err := snap.Pages(4, 8, func(uint64, []byte) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Pages stopped with %v after %d calls", err, n)
	}
	if err := snap.Pages(8, 4, func(uint64, []byte) error { t.Fatal("called"); return nil }); err != nil {
		t.Fatal(err)
	}
}
