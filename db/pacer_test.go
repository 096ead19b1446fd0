package db

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// fakeClock is a settable now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func testPacer() (*pacer, *fakeClock) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	p := newPacer(&Options{MemTableSize: 64 << 20, MemTableStopWrites: 2})
	p.now = c.now
	return p, c
}

func TestPacerSchedule(t *testing.T) {
	const mem = 64 << 20
	p, clock := testPacer()
	if d := p.reserve(1 << 20); d != 0 {
		t.Fatalf("no flush running: wait %v", d)
	}
	// A large flush before any has ended: nothing known of the rate.
	p.flushBegan(mem, true)
	if d := p.reserve(60 << 20); d != 0 {
		t.Fatalf("rate unknown: wait %v", d)
	}
	// It ends: 64 MiB in 500 ms teaches 128 MiB/s.
	p.flushEnded(mem, 500*time.Millisecond, true)
	if d := p.reserve(1 << 20); d != 0 {
		t.Fatalf("between flushes: wait %v", d)
	}
	// A small flush neither paces nor teaches.
	p.flushBegan(1<<20, false)
	if d := p.reserve(60 << 20); d != 0 {
		t.Fatalf("small flush: wait %v", d)
	}
	p.flushEnded(1<<20, time.Second, false)
	if p.rate != mem/0.5 {
		t.Fatalf("rate %.0f, want %d", p.rate, mem*2)
	}

	// The next large flush is expected to take 500 ms × pacingMargin.
	p.flushBegan(mem, true)
	expect := time.Duration(pacingMargin * float64(500*time.Millisecond))
	if p.expect != expect {
		t.Fatalf("expect %v, want %v", p.expect, expect)
	}
	// The lead goes through at once.
	// bytes(f) is what fills a fraction f of the room.
	bytes := func(f float64) int { return int(f * float64(mem) / pacingOverhead) }
	lead := bytes(pacingLead)
	if d := p.reserve(lead - 1); d != 0 {
		t.Fatalf("within the lead: wait %v", d)
	}
	// Then the room fills at an even rate: bytes up to a fraction f of
	// the room between lead and fill may go at f × expect.
	half := bytes(pacingLead+(pacingFill-pacingLead)/2) - lead + 1
	d := p.reserve(half)
	if want := expect / 2; absDur(d-want) > time.Millisecond {
		t.Fatalf("half the paced room: wait %v, want %v", d, want)
	}
	// Time passes: the same reservation waits that much less.
	clock.advance(expect / 2)
	step := bytes((pacingFill - pacingLead) / 10)
	d = p.reserve(step)
	if want := expect / 10; absDur(d-want) > time.Millisecond {
		t.Fatalf("a tenth after half way: wait %v, want %v", d, want)
	}
	// Never more than pacingMaxWait, however far ahead the writers are.
	if d := p.reserve(1 << 40); d != pacingMaxWait {
		t.Fatalf("far ahead: wait %v, want %v", d, pacingMaxWait)
	}
	// The flush ends: no more waits, and the rate is the mean of the two.
	p.flushEnded(mem, time.Second, true)
	if d := p.reserve(1 << 20); d != 0 {
		t.Fatalf("after the flush: wait %v", d)
	}
	if want := (mem/0.5 + mem/1.0) / 2; math.Abs(p.rate-want) > 1 {
		t.Fatalf("rate %.0f, want %.0f", p.rate, want)
	}
}

func absDur(d time.Duration) time.Duration { return max(d, -d) }

// With MemTableStopWrites 1 there is no room to pace into: Pebble stalls
// on every rotation whatever the writers do.
func TestPacerNoRoom(t *testing.T) {
	p := newPacer(&Options{MemTableSize: 64 << 20, MemTableStopWrites: 1})
	p.flushEnded(64<<20, time.Second, true)
	p.flushBegan(64<<20, true)
	if d := p.reserve(64 << 20); d != 0 {
		t.Fatalf("no room: wait %v", d)
	}
}

func TestPacerWaitCancelled(t *testing.T) {
	p, _ := testPacer()
	p.flushEnded(64<<20, time.Second, true)
	p.flushBegan(64<<20, true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx, 60<<20); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context: %v", err)
	}
	if m := p.metrics(); m.Waits != 0 {
		t.Fatalf("a cancelled wait counted: %+v", m)
	}
}

// slowTablesFS writes sstables at about rate bytes/s (WAL and everything
// else at full speed), so flushes fall behind a writer as they do when a
// DB is written faster than its disk and compactions let it flush.
type slowTablesFS struct {
	vfs.FS
	rate float64
}

func (fs slowTablesFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	if err != nil || !strings.HasSuffix(name, ".sst") {
		return f, err
	}
	return &slowFile{File: f, rate: fs.rate}, nil
}

type slowFile struct {
	vfs.File
	rate float64
	mu   sync.Mutex
	debt time.Duration
}

func (f *slowFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	f.debt += time.Duration(float64(len(p)) / f.rate * float64(time.Second))
	if f.debt >= time.Millisecond {
		time.Sleep(f.debt)
		f.debt = 0
	}
	f.mu.Unlock()
	return f.File.Write(p)
}

// A writer faster than the flushes: without pacing Pebble stalls it at
// most memtable rotations; with pacing its appends wait a little each and
// the stalls (nearly) go. Nothing is lost either way.
func TestPacingSpreadsFlushes(t *testing.T) {
	const (
		mem   = 2 << 20
		total = 20 << 20
		batch = 128 // pages of 1 KiB per append
	)
	run := func(noPacing bool) *Metrics {
		dir := t.TempDir()
		o := &Options{FS: slowTablesFS{FS: vfs.Default, rate: 4 << 20}, NoSync: true,
			MemTableSize: mem, NoWritePacing: noPacing}
		d, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ctx := context.Background()
		b, err := d.Book(ctx, "bulk")
		if err != nil {
			t.Fatal(err)
		}
		pages := make([][]byte, batch)
		for i := range pages {
			pages[i] = make([]byte, 1024)
		}
		for n := 0; n < total/1024; n += batch {
			for i := range pages {
				pages[i][0], pages[i][1] = byte(n+i), byte((n+i)>>8)
			}
			if _, err := b.Append(ctx, pages...); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := b.Audit(ctx)
		if err == nil {
			err = rep.Err()
		}
		if err != nil || rep.Pages != total/1024 {
			t.Fatalf("audit: %v (%d pages checked)", err, rep.Pages)
		}
		m, err := d.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	unpaced := run(true)
	paced := run(false)
	t.Logf("unpaced: %d stalls (%v); paced: %d stalls (%v), %d waits (%v)",
		unpaced.WriteStalls.Count(), unpaced.WriteStalls.Time,
		paced.WriteStalls.Count(), paced.WriteStalls.Time, paced.Pacing.Waits, paced.Pacing.Time)
	if unpaced.Pacing.Waits != 0 {
		t.Fatalf("NoWritePacing paced %d appends", unpaced.Pacing.Waits)
	}
	// 20 MiB through 2 MiB memtables flushed at 4 MiB/s: the unpaced
	// writer fills each memtable long before the last one is flushed.
	if unpaced.WriteStalls.MemTable < 4 {
		t.Fatalf("the unpaced writer stalled %d times: the set-up does not outrun its flushes", unpaced.WriteStalls.MemTable)
	}
	if paced.Pacing.Waits == 0 {
		t.Fatal("pacing never held an append back")
	}
	// The first flushes come before the pacer has seen one of a full
	// memtable, so a few stalls remain; the time stalled is what pacing
	// hands to the appends (10 stalls and ~740 ms unpaced against 2–5
	// and 170–270 ms paced, on an idle and on a busy machine).
	if paced.WriteStalls.MemTable >= unpaced.WriteStalls.MemTable ||
		2*paced.WriteStalls.Time > unpaced.WriteStalls.Time {
		t.Fatalf("paced: %d stalls (%v), unpaced %d (%v): pacing should at least halve the time stalled",
			paced.WriteStalls.MemTable, paced.WriteStalls.Time, unpaced.WriteStalls.MemTable, unpaced.WriteStalls.Time)
	}
}
