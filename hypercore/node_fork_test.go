package hypercore

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestNodeWriterTruncates: the Node writer truncates (a new fork) and
// appends other blocks while folio follows it live: folio moves to the new
// fork on the author's signature and ends equal to the writer.
func TestNodeWriterTruncates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node, r, errc := followNodeWriter(t, ctx, 20, 32)
	node.send(t, `{"truncate":15}`)
	node.next(t)
	node.send(t, `{"append":8}`)
	st := node.next(t)
	for r.Fork() < 1 || r.Length() < st.Length {
		select {
		case err := <-errc:
			t.Fatalf("fetch ended: %v", err)
		case <-ctx.Done():
			t.Fatalf("folio at fork %d length %d; Node at length %d", r.Fork(), r.Length(), st.Length)
		case <-time.After(10 * time.Millisecond):
		}
	}
	waitComplete(t, ctx, r, st.Length)
	if treeHash(r) != st.TreeHash || digest(t, r) != st.Digest {
		t.Fatalf("after the truncate: %s %s, Node %s %s", treeHash(r), digest(t, r), st.TreeHash, st.Digest)
	}
	if p, _ := r.Get(ctx, 16, nil); !strings.HasPrefix(string(p), "blk-16-f1-") {
		t.Fatalf("block 16 = %q", p)
	}
	cancel()
	<-errc
}
