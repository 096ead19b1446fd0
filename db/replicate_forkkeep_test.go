package db

import (
	"context"
	"crypto/ed25519"
	"net"
	"testing"
)

// TestReplicateForkFetchesOnlyTheChange: a follower holding 4,096 pages
// moves to a fork truncated at 4,000 and grown by 10 pages. It keeps the
// 4,000 pages below the fork point and downloads only the 10 new ones.
func TestReplicateForkFetchesOnlyTheChange(t *testing.T) {
	ctx := context.Background()
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	w, err := wdb.Book(ctx, "fork")
	if err != nil {
		t.Fatal(err)
	}
	scnFill(t, w, "old", 0, 4096, 512)
	r, err := rdb.OpenKey(ctx, w.Key())
	if err != nil {
		t.Fatal(err)
	}
	keys := []ed25519.PublicKey{w.Key()}
	var tap *tapConn
	var errs peerErrors
	pipePairWrapped(t, wdb, rdb, "writer", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys, Listener: errs.listener()},
		func(c net.Conn) net.Conn { tap = &tapConn{Conn: c}; return tap })
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
