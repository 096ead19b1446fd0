package hypercore

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestNodeWriterToFolio: folio fetches a Node compat core (10 and 10,000
// blocks), in both Noise roles, then follows appends made while connected;
// the tree hash and every block equal Node's.
func TestNodeWriterToFolio(t *testing.T) {
	for _, tc := range []struct {
		blocks    int
		folioDial bool
	}{{10, true}, {10, false}, {10000, true}} {
		t.Run(fmt.Sprintf("%d-blocks-folio-dials-%v", tc.blocks, tc.folioDial), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			opts := map[string]any{"role": "writer", "blocks": tc.blocks, "size": 64}
			var conn net.Conn
			var node *nodePeer
			if tc.folioDial {
				opts["listen"], opts["initiator"] = true, false
				node = startNode(t, opts)
				c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", node.ready.Port))
				if err != nil {
					t.Fatal(err)
				}
				conn = c
			} else {
				ln, addr := listen(t)
				opts["connect"], opts["initiator"] = addr, true
				node = startNode(t, opts)
				c, err := ln.Accept()
				if err != nil {
					t.Fatal(err)
				}
				conn = c
			}
			key, _ := hex.DecodeString(node.ready.Key)
			r := openBook(t, ed25519.PublicKey(key), nil)
			errc := make(chan error, 1)
			go func() { errc <- Fetch(ctx, conn, tc.folioDial, r, &Options{Live: true}) }()
			waitComplete(t, ctx, r, uint64(tc.blocks))
			if got := treeHash(r); got != node.ready.TreeHash {
				t.Fatalf("tree hash %s, Node has %s", got, node.ready.TreeHash)
			}
			node.send(t, `{"append":7}`)
			st := node.next(t)
			waitComplete(t, ctx, r, st.Length)
			if treeHash(r) != st.TreeHash || digest(t, r) != st.Digest {
				t.Fatalf("after appends: %s %s, Node %s %s", treeHash(r), digest(t, r), st.TreeHash, st.Digest)
			}
			for _, i := range []uint64{0, uint64(tc.blocks) - 1, st.Length - 1} {
				p, _ := r.Get(ctx, i, nil)
				if string(p) != string(nodeBlock(i, 64)) {
					t.Fatalf("block %d = %q", i, p)
				}
			}
			cancel()
			<-errc
		})
	}
}

// TestFolioWriterToNodeReader: a Node reader opened by key alone reads
// every block of a folio book (100 and 10,000), ends in compat mode, and
// receives appends made while connected; in both Noise roles.
func TestFolioWriterToNodeReader(t *testing.T) {
	for _, tc := range []struct {
		blocks    uint64
		folioDial bool
	}{{100, false}, {100, true}, {10000, false}} {
		folioDial, blocks := tc.folioDial, tc.blocks
		t.Run(fmt.Sprintf("%d-blocks-folio-dials-%v", blocks, folioDial), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, sk, _ := ed25519.GenerateKey(nil)
			var pgs [][]byte
			for i := uint64(0); i < blocks; i++ {
				pgs = append(pgs, nodeBlock(i, 100))
			}
			w := writer(t, sk, pgs...)
			opts := map[string]any{"role": "reader", "key": hex.EncodeToString(w.Key())}
			errc := make(chan error, 1)
			var node *nodePeer
			if folioDial {
				opts["listen"], opts["initiator"] = true, false
				node = startNode(t, opts)
				c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", node.ready.Port))
				if err != nil {
					t.Fatal(err)
				}
				go func() { errc <- Serve(ctx, c, true, w, nil) }()
			} else {
				ln, addr := listen(t)
				go func() { errc <- ServeListener(ctx, ln, w, nil, nil) }()
				opts["connect"], opts["initiator"] = addr, true
				node = startNode(t, opts)
			}
			node.send(t, fmt.Sprintf(`{"wait":%d}`, blocks))
			st := node.next(t)
			if st.Length != blocks || !st.Compat || st.TreeHash != treeHash(w) || st.Digest != digest(t, w) {
				t.Fatalf("Node reader: %+v; folio %s %s", st, treeHash(w), digest(t, w))
			}
			var more [][]byte
			for i := blocks; i < blocks+5; i++ {
				more = append(more, nodeBlock(i, 100))
			}
			if _, err := w.Append(ctx, more...); err != nil {
				t.Fatal(err)
			}
			node.send(t, fmt.Sprintf(`{"wait":%d}`, blocks+5))
			st = node.next(t)
			if st.Length != blocks+5 || st.TreeHash != treeHash(w) || st.Digest != digest(t, w) {
				t.Fatalf("after appends: %+v", st)
			}
			cancel()
			<-errc
		})
	}
}
