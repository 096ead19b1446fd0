package hypercore

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"testing"
	"time"
)

// BenchmarkHypercoreFetch is the hypercore-fetch shape: a Node compat
// writer holds 10,000 blocks of 1 KiB; each iteration downloads the whole
// core over a new loopback TCP connection into a fresh store, once with
// folio (Fetch) and once with a Node hypercore reader, alternately, so
// both meet the same machine state. Timed on both sides: from the
// connection to the last block stored (opening the store not counted).
// Metrics: folio-ms and node-ms (medians), and node/folio (> 1: folio is
// faster). The serving side, the same way: node-from-folio-ms is the Node
// reader fetching the same blocks from a folio writer (ServeListener).
func BenchmarkHypercoreFetch(b *testing.B) {
	const blocks, size = 10000, 1024
	writer := startNode(b, map[string]any{"role": "writer", "blocks": blocks, "size": size, "listen": true})
	addr := fmt.Sprintf("127.0.0.1:%d", writer.ready.Port)
	fetcher := startNode(b, map[string]any{"role": "fetcher", "key": writer.ready.Key})
	key, _ := hex.DecodeString(writer.ready.Key)
	// The same blocks, served by folio to the Node fetcher.
	_, sk, _ := ed25519.GenerateKey(nil)
	var pgs [][]byte
	for i := uint64(0); i < blocks; i++ {
		pgs = append(pgs, nodeBlock(i, size))
	}
	fw := openBookOpts(b, sk.Public().(ed25519.PublicKey), sk, nil)
	if _, err := fw.Append(context.Background(), pgs...); err != nil {
		b.Fatal(err)
	}
	ln, folioAddr := listen(b)
	serveCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = ServeListener(serveCtx, ln, fw, nil, nil) }()
	fromFolio := startNode(b, map[string]any{"role": "fetcher", "key": hex.EncodeToString(fw.Key())})
	var folioMS, nodeMS, fromFolioMS []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := openBook(b, ed25519.PublicKey(key), nil)
		b.StartTimer()
		start := time.Now()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		if err := Fetch(context.Background(), conn, true, r, nil); err != nil {
			b.Fatal(err)
		}
		folioMS = append(folioMS, float64(time.Since(start).Microseconds())/1000)
		b.StopTimer()
		if r.Length() != blocks || treeHash(r) != writer.ready.TreeHash {
			b.Fatalf("folio fetched %d blocks, tree hash %s", r.Length(), treeHash(r))
		}
		fetcher.send(b, fmt.Sprintf(`{"fetch":%q}`, addr))
		if !fetcher.lines.Scan() {
			b.Fatal("node fetcher exited")
		}
		var got struct {
			MS       float64 `json:"ms"`
			Length   uint64  `json:"length"`
			TreeHash string  `json:"treeHash"`
		}
		if err := json.Unmarshal(fetcher.lines.Bytes(), &got); err != nil || got.Length != blocks || got.TreeHash != writer.ready.TreeHash {
			b.Fatalf("node fetcher: %s %v", fetcher.lines.Text(), err)
		}
		nodeMS = append(nodeMS, got.MS)
		fromFolio.send(b, fmt.Sprintf(`{"fetch":%q}`, folioAddr))
		if !fromFolio.lines.Scan() {
			b.Fatal("node fetcher exited")
		}
		if err := json.Unmarshal(fromFolio.lines.Bytes(), &got); err != nil || got.Length != blocks || got.TreeHash != treeHash(fw) {
			b.Fatalf("node fetcher from folio: %s %v", fromFolio.lines.Text(), err)
		}
		fromFolioMS = append(fromFolioMS, got.MS)
		b.StartTimer()
	}
	b.StopTimer()
	f, n := median(folioMS), median(nodeMS)
	b.ReportMetric(f, "folio-ms")
	b.ReportMetric(n, "node-ms")
	b.ReportMetric(n/f, "node/folio")
	b.ReportMetric(blocks/(f/1000), "folio-blocks/s")
	b.ReportMetric(median(fromFolioMS), "node-from-folio-ms")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
