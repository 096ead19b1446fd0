package peerstore

import (
	"testing"
	"time"
)

// BenchmarkCloseBacklog times Close with 10,000 dirty peers (each as
// identify leaves it: 3 addresses, a key, 8 protocols, 2 metadata
// entries), none flushed yet: the flusher is held off by a long
// FlushDelay and a high FlushChanges. Close appends one page per peer
// (synced) and stops; ns/op is Close alone, on a real Pebble DB on disk.
func BenchmarkCloseBacklog(b *testing.B) {
	const n = 10_000
	peers := fakePeers(b, n)
	for range b.N {
		b.StopTimer()
		ps, d := benchPS(b, &Options{FlushDelay: time.Hour, FlushChanges: 1 << 30})
		fill(ps, peers)
		if got := ps.Metrics().PendingChanges; got < n {
			b.Fatalf("%d peers dirty, want %d", got, n)
		}
		b.StartTimer()
		if err := ps.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if m := ps.Metrics(); m.Pages < n {
			b.Fatalf("Close journaled %d pages, want %d", m.Pages, n)
		}
		d.Close()
	}
}
