package hypercore

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net"
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
	node := startNode(t, map[string]any{"role": "writer", "blocks": 20, "size": 32, "listen": true})
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", node.ready.Port))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := hex.DecodeString(node.ready.Key)
	r := openBook(t, ed25519.PublicKey(key), nil)
	errc := make(chan error, 1)
	go func() { errc <- Fetch(ctx, conn, true, r, &Options{Live: true}) }()
	waitComplete(t, ctx, r, 20)
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
