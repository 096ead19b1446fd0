package hypercore

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"testing"
	"time"
)

// idle is longer than the 30 s idle timeout of our streams: only
// keep-alives (Node's every 5 s, ours every 5 s) keep them open.
const idle = 35 * time.Second

// TestKeepAliveWithNode: connections to Node peers survive 35 s without
// data, in both directions, and the next append still arrives.
func TestKeepAliveWithNode(t *testing.T) {
	if testing.Short() {
		t.Skip("idles for 35 s")
	}
	needNode(t)
	t.Run("node-writer", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		node, r, errc := followNodeWriter(t, ctx, 3, 16)
		select {
		case err := <-errc:
			t.Fatalf("fetch ended while idle: %v", err)
		case <-time.After(idle):
		}
		node.send(t, `{"append":1}`)
		st := node.next(t)
		waitComplete(t, ctx, r, st.Length)
		if treeHash(r) != st.TreeHash {
			t.Fatal("tree hash differs after the idle period")
		}
	})
	t.Run("node-reader", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, sk, _ := ed25519.GenerateKey(nil)
		w := writer(t, sk, nodeBlock(0, 16), nodeBlock(1, 16))
		ln, addr := listen(t)
		errc := make(chan error, 1)
		go func() { errc <- ServeListener(ctx, ln, w, nil, func(err error) { errc <- err }) }()
		node := startNode(t, map[string]any{"role": "reader", "key": hex.EncodeToString(w.Key()), "connect": addr, "initiator": true})
		node.send(t, `{"wait":2}`)
		node.next(t)
		select {
		case err := <-errc:
			t.Fatalf("serve ended while idle: %v", err)
		case <-time.After(idle):
		}
		if _, err := w.Append(ctx, nodeBlock(2, 16)); err != nil {
			t.Fatal(err)
		}
		node.send(t, `{"wait":3}`)
		if st := node.next(t); st.Length != 3 || st.TreeHash != treeHash(w) {
			t.Fatalf("after the idle period: %+v", st)
		}
	})
}
