package db

import (
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestStalls: each begin/end pair counts once, by its reason; an end
// without a begin counts nothing.
func TestStalls(t *testing.T) {
	var s Stalls
	l := s.Listener()
	l.WriteStallEnd()
	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: "memtable count limit reached"})
	l.WriteStallEnd()
	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: "L0 file count limit exceeded"})
	l.WriteStallEnd()
	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: "memtable count limit reached"})
	l.WriteStallEnd()
	m := s.Metrics()
	if m.MemTable != 2 || m.L0 != 1 || m.Count() != 3 || m.Longest > m.Time {
		t.Fatalf("stalls %+v, want 2 memtable and 1 L0, longest within the total", m)
	}
}

// TestMetricsWriteStalls: Metrics carries the DB's stall counts, and a
// fresh DB has none. (Whether a given load stalls depends on the machine,
// so no test waits for one.)
func TestMetricsWriteStalls(t *testing.T) {
	d := openTest(t, t.TempDir(), &Options{NoSync: true, MemTableSize: 256 << 10, CacheSize: 1 << 20})
	m, err := d.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	if m.WriteStalls.Count() != 0 || m.WriteStalls.Time != 0 {
		t.Fatalf("a fresh DB reports stalls: %+v", m.WriteStalls)
	}
}

// TestMemTableStopWrites: the option reaches Pebble, and its default is
// Pebble's own.
func TestMemTableStopWrites(t *testing.T) {
	for _, c := range []struct{ set, want int }{{0, 2}, {4, 4}} {
		po := PebbleOptions(&Options{MemTableStopWrites: c.set})
		po.Cache.Unref()
		if po.MemTableStopWritesThreshold != c.want {
			t.Errorf("MemTableStopWrites %d: Pebble gets %d, want %d", c.set, po.MemTableStopWritesThreshold, c.want)
		}
	}
}
