package db

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// fakeCompactor is a DBForCompaction whose allowance and backlog the test
// sets; it counts the grants it took.
type fakeCompactor struct {
	mu               sync.Mutex
	allowed, waiting int
	granted          int
	handles          []pebble.CompactionGrantHandle
}

func (f *fakeCompactor) GetAllowedWithoutPermission() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.allowed
}

func (f *fakeCompactor) GetWaitingCompaction() (bool, pebble.WaitingCompaction) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting > 0, pebble.WaitingCompaction{}
}

func (f *fakeCompactor) Schedule(h pebble.CompactionGrantHandle) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waiting == 0 {
		return false
	}
	f.waiting--
	f.granted++
	f.handles = append(f.handles, h)
	return true
}

func (f *fakeCompactor) set(allowed, waiting int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allowed, f.waiting = allowed, waiting
}

func (f *fakeCompactor) grants() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.granted
}

// TestQuietScheduler: Pebble's rules (grant up to the allowance; a
// refused compaction is granted at the next Done, or at a tick while
// others run when the allowance grew) and no tick while none runs.
func TestQuietScheduler(t *testing.T) {
	f := &fakeCompactor{}
	s := newQuietScheduler()
	f.set(2, 0)
	s.Register(2, f)
	defer s.Unregister()

	time.Sleep(5 * grantEvery)
	if n := s.ticks.Load(); n != 0 {
		t.Fatalf("%d ticks with no compaction ever run", n)
	}
	var held []pebble.CompactionGrantHandle
	for i := 0; i < 2; i++ {
		ok, h := s.TrySchedule()
		if !ok {
			t.Fatalf("compaction %d refused with allowance 2", i)
		}
		held = append(held, h)
	}
	if ok, _ := s.TrySchedule(); ok {
		t.Fatal("a third compaction granted with allowance 2")
	}
	// The refused one waits; a Done grants it.
	f.set(2, 1)
	held[0].Done()
	if f.grants() != 1 {
		t.Fatalf("Done granted %d waiting compactions, want 1", f.grants())
	}
	// The allowance grows while two run: a tick grants the waiting one.
	f.set(3, 1)
	deadline := time.Now().Add(10 * time.Second)
	for f.grants() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("no tick granted the compaction the larger allowance lets in")
		}
		time.Sleep(grantEvery / 4)
	}
	if s.ticks.Load() == 0 {
		t.Fatal("granted without a tick")
	}
	// All end: the ticks stop (at most one more, which finds none running).
	held[1].Done()
	f.mu.Lock()
	more := f.handles
	f.mu.Unlock()
	for _, h := range more {
		h.Done()
	}
	s.mu.Lock()
	running := s.mu.running
	s.mu.Unlock()
	if running != 0 {
		t.Fatalf("%d compactions counted as running after all ended", running)
	}
	n := s.ticks.Load()
	time.Sleep(10 * grantEvery)
	if d := s.ticks.Load() - n; d > 1 {
		t.Fatalf("%d ticks in 10 periods with no compaction running", d)
	}
}

// TestQuietSchedulerCompacts: a DB with the options Open uses, written
// well past its memtable, still flushes and compacts, reads back what it
// wrote, and once compactions are done its scheduler stops ticking.
func TestQuietSchedulerCompacts(t *testing.T) {
	o := (&Options{MemTableSize: 256 << 10}).withDefaults()
	po := o.pebbleOptions(nil)
	po.Logger = quietLogger{}
	s := po.Experimental.CompactionScheduler.(*quietScheduler)
	pdb, err := pebble.Open(t.TempDir(), po)
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	const n = 40000
	val := make([]byte, 200)
	for i := 0; i < n; i++ {
		copy(val, fmt.Sprintf("value %d", i))
		if err := pdb.Set([]byte(fmt.Sprintf("key-%08d", (i*7919)%n)), val, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	if err := pdb.Flush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		m := pdb.Metrics()
		s.mu.Lock()
		running := s.mu.running
		s.mu.Unlock()
		if m.Compact.Count > 0 && running == 0 && m.Compact.NumInProgress == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("compactions %d, running %d", m.Compact.Count, running)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := 0; i < n; i += 997 {
		v, c, err := pdb.Get([]byte(fmt.Sprintf("key-%08d", i)))
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		c.Close()
		if len(v) != len(val) {
			t.Fatalf("key %d: %d bytes", i, len(v))
		}
	}
	time.Sleep(2 * grantEvery) // the tick that finds none running
	ticks := s.ticks.Load()
	time.Sleep(10 * grantEvery)
	if d := s.ticks.Load() - ticks; d != 0 {
		t.Fatalf("%d ticks in 10 periods of an idle DB", d)
	}
}
