package db

import (
	"context"
	"slices"
	"testing"
)

// Names lists the writable books by name prefix, in byte order, and forgets
// a deleted one.
func TestNames(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t.TempDir(), nil)
	for _, n := range []string{"ps", "ps~2", "ps~1", "psx", "other", "p"} {
		if _, err := d.Book(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.Names("ps")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ps", "psx", "ps~1", "ps~2"}; !slices.Equal(got, want) { // byte order
		t.Fatalf("Names(ps) = %v, want %v", got, want)
	}
	in, err := d.LookupName("ps~1")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteBook(ctx, in.Key); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Names("ps~"); !slices.Equal(got, []string{"ps~2"}) {
		t.Fatalf("after delete: %v", got)
	}
	if got := prefixEnd([]byte{1, 0xff, 0xff}); !slices.Equal(got, []byte{2}) {
		t.Fatalf("prefixEnd = %x", got)
	}
	if got := prefixEnd([]byte{0xff}); got != nil {
		t.Fatalf("prefixEnd(ff) = %x, want nil", got)
	}
}
