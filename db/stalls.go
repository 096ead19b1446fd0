package db

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Stalls counts Pebble's write stalls: the times it held writes back
// because flushes or compactions were behind (too many memtables waiting to
// be flushed, or too many sublevels in L0). A DB keeps one (Metrics reports
// it); a raw Pebble baseline can keep its own through Listener.
type Stalls struct {
	memTable atomic.Uint64
	l0       atomic.Uint64
	total    atomic.Int64 // nanoseconds stalled
	longest  atomic.Int64
	began    atomic.Int64 // UnixNano of the stall in progress, 0 if none
}

// StallMetrics is a snapshot of Stalls.
type StallMetrics struct {
	MemTable uint64        // stalls because MemTableStopWritesThreshold memtables waited to be flushed
	L0       uint64        // stalls because L0 had L0StopWritesThreshold sublevels
	Time     time.Duration // time writes were held back, in total
	Longest  time.Duration // the longest single stall
}

// Count is the number of stalls of either kind.
func (m StallMetrics) Count() uint64 { return m.MemTable + m.L0 }

// Listener returns a Pebble event listener that counts into s. Pebble calls
// WriteStallBegin and WriteStallEnd from the committing goroutine, one pair
// at a time (under its commit lock).
func (s *Stalls) Listener() *pebble.EventListener {
	return &pebble.EventListener{
		WriteStallBegin: func(i pebble.WriteStallBeginInfo) {
			if strings.Contains(i.Reason, "L0") {
				s.l0.Add(1)
			} else {
				s.memTable.Add(1)
			}
			s.began.Store(time.Now().UnixNano())
		},
		WriteStallEnd: func() {
			began := s.began.Swap(0)
			if began == 0 {
				return
			}
			d := time.Now().UnixNano() - began
			s.total.Add(d)
			for {
				old := s.longest.Load()
				if d <= old || s.longest.CompareAndSwap(old, d) {
					break
				}
			}
		},
	}
}

// Metrics returns the counts so far.
func (s *Stalls) Metrics() StallMetrics {
	return StallMetrics{MemTable: s.memTable.Load(), L0: s.l0.Load(),
		Time: time.Duration(s.total.Load()), Longest: time.Duration(s.longest.Load())}
}
