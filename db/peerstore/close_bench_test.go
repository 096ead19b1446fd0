package peerstore

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkCloseBacklog times Close with 10,000 dirty peers (each as
// identify leaves it: 3 addresses, a key, 8 protocols, 2 metadata
// entries), none flushed yet: the flusher is held off by a long
// FlushDelay and a high FlushChanges. Close appends one page per peer
// (synced) and stops; ns/op is Close alone, on a real Pebble DB on disk;
// cpu-ms/op is the process's CPU time during Close (on a loaded machine
// the wall time mostly measures the wait for a core).
func BenchmarkCloseBacklog(b *testing.B) {
	const n = 10_000
	peers := fakePeers(b, n)
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		ps, d := benchPS(b, &Options{FlushDelay: time.Hour, FlushChanges: 1 << 30})
		fill(ps, peers)
		if got := ps.Metrics().PendingChanges; got < n {
			b.Fatalf("%d peers dirty, want %d", got, n)
		}
		b.StartTimer()
		c0 := cpuTime(b)
		if err := ps.Close(); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime(b) - c0
		b.StopTimer()
		if m := ps.Metrics(); m.Pages < n {
			b.Fatalf("Close journaled %d pages, want %d", m.Pages, n)
		}
		d.Close()
	}
	b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
