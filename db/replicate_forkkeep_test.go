package db

import (
	"context"
	"testing"
)

// TestReplicateForkFetchesOnlyTheChange: a follower holding 4,096 pages
// moves to a fork truncated at 4,000 and grown by 10 pages. It keeps the
// 4,000 pages below the fork point and downloads only the 10 new ones.
func TestReplicateForkFetchesOnlyTheChange(t *testing.T) {
	ctx := context.Background()
	var errs peerErrors
	w, r, tap, _, _ := tappedPair(t, "old", 4096, 512, errs.listener())
	waitPages(t, r, 4096)
	scnWait(t, "the transfer to settle", func() bool {
		got, _ := tap.since(0, 0)
		n := 0
		for _, m := range got {
			n += len(m.GetData().GetRange().GetValues())
		}
		return n == 4096
	})
	mark, _ := tap.marks()
	if err := w.Truncate(ctx, 4000); err != nil {
		t.Fatal(err)
	}
	scnFill(t, w, "new", 4000, 4010, 10)
	scnWait(t, "the reader to hold the new fork", func() bool {
		c, _ := r.Contiguous(0)
		return r.Fork() == 1 && r.Length() == 4010 && c == 4010
	})
	scnSameBook(t, r, w)
	auditClean(t, r)
	got, _ := tap.since(mark, 0)
	pages := 0
	for _, m := range got {
		pages += len(m.GetData().GetRange().GetValues())
	}
	if pages > 10 {
		t.Fatalf("the reader downloaded %d pages after the fork, want the 10 new ones", pages)
	}
	if e := errs.all(); len(e) > 0 {
		t.Fatalf("peer errors: %v", e)
	}
}
