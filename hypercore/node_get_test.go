package hypercore

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

// TestNodeReaderGetsAhead: a Node reader that asks for blocks in random
// order, the first beyond the length it knows (core.get before any
// update), gets them from a folio writer. (hypercore 11.37.1 asks for the
// upgrade first and the block after; it did not send the combined
// block+upgrade request here, so prove's merged path has no Node check.)
func TestNodeReaderGetsAhead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, sk, _ := ed25519.GenerateKey(nil)
	var pgs [][]byte
	for i := uint64(0); i < 50; i++ {
		pgs = append(pgs, nodeBlock(i, 40))
	}
	w := writer(t, sk, pgs...)
	ln, addr := listen(t)
	go func() { _ = ServeListener(ctx, ln, w, nil, nil) }()
	node := startNode(t, map[string]any{"role": "reader", "key": hex.EncodeToString(w.Key()), "connect": addr, "initiator": true})
	for _, i := range []int{41, 7, 49} {
		node.send(t, `{"get":`+jsonInt(i)+`}`)
		if !node.lines.Scan() {
			t.Fatal("node reader exited")
		}
		var got struct {
			Value  string `json:"value"`
			Length uint64 `json:"length"`
		}
		if err := json.Unmarshal(node.lines.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Value != string(nodeBlock(uint64(i), 40)) || got.Length != 50 {
			t.Fatalf("block %d: %+v", i, got)
		}
	}
}

func jsonInt(i int) string { b, _ := json.Marshal(i); return string(b) }
