package hypercore

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/noise"
	"github.com/folio-p2p/folio/hypercore/protomux"
	"github.com/folio-p2p/folio/hypercore/secretstream"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// TestNodeRefusesHostile: the same misbehaviour from our side — a
// capability that does not prove the key, a forged frame — makes a real
// Node reader close the stream, and it stores nothing.
func TestNodeRefusesHostile(t *testing.T) {
	_, sk, _ := ed25519.GenerateKey(nil)
	key := sk.Public().(ed25519.PublicKey)
	for _, tc := range []struct {
		name string
		act  func(st *secretstream.Stream, conn net.Conn)
	}{
		{"bad capability", func(st *secretstream.Stream, _ net.Conn) {
			m := protomux.New(st, nil)
			dk := book.DiscoveryKey(key)
			var c [32]byte
			_, _ = rand.Read(c[:])
			hs := wire.Handshake{Capability: c}
			ch, err := m.Open(Protocol, dk[:], hs.Append(nil), nopHandler{})
			if err != nil {
				return
			}
			sync := &wire.Sync{Length: 5, CanUpgrade: true, Uploading: true}
			_ = ch.Send(wire.TypeSync, sync.Append(nil))
			_ = ch.Send(wire.TypeRange, (&wire.Range{Length: 5}).Append(nil))
		}},
		{"forged frame", func(_ *secretstream.Stream, conn net.Conn) {
			junk := make([]byte, 100)
			_, _ = rand.Read(junk)
			_ = noise.WriteFrame(conn, junk)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := startNode(t, map[string]any{"role": "reader", "key": hex.EncodeToString(key), "listen": true})
			conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", node.ready.Port))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			st, err := secretstream.New(context.Background(), conn, true, &secretstream.Options{KeepAlive: -1, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			tc.act(st, conn)
			start := time.Now()
			for {
				if _, err := st.Read(); err != nil {
					break // Node closed the stream
				}
			}
			if time.Since(start) > 9*time.Second {
				t.Fatal("Node did not close the stream")
			}
			node.send(t, `{"wait":0}`)
			if st := node.next(t); st.Length != 0 {
				t.Fatalf("Node stored something: %+v", st)
			}
		})
	}
}
