package db

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// grantEvery is how often, while compactions run, the scheduler looks
// again at how many Pebble allows (Pebble's own period).
const grantEvery = 100 * time.Millisecond

// quietScheduler is Pebble's default compaction scheduler
// (ConcurrencyLimitScheduler: as many compactions at once as the DB's
// GetAllowedWithoutPermission allows) without its idle wake-ups. Pebble's
// looks at that number every 100 ms for the whole life of the DB, 10
// wake-ups a second for a DB that does nothing (320 a second for the 32
// DBs of `folio bench group --members 32`, the largest part of their idle
// CPU). The look only matters while a compaction runs: the number is at
// least one, so with none running a compaction asks (TrySchedule) and is
// granted at once; the DB stops asking only once one was refused, which
// needs one running, and each one's end (Done) grants what waits. So this
// one ticks only while a compaction runs, and otherwise keeps Pebble's
// rules: a grant at each Done, at each flush (UpdateGetAllowedWithoutPermission)
// and at each tick.
type quietScheduler struct {
	db pebble.DBForCompaction
	mu struct {
		sync.Mutex
		running      int
		unregistered bool
		granting     bool // a grant is under way (Done's or the granter's)
		grantingDone *sync.Cond
		lastAllowed  int
	}
	poke  chan struct{} // grant now (a flush may allow more)
	busy  chan struct{} // a compaction started: tick while any runs
	stop  chan struct{}
	ticks atomic.Int64 // ticks handled (tests count them)
}

var _ pebble.CompactionScheduler = (*quietScheduler)(nil)

func newQuietScheduler() *quietScheduler {
	s := &quietScheduler{poke: make(chan struct{}, 1), busy: make(chan struct{}, 1), stop: make(chan struct{})}
	s.mu.grantingDone = sync.NewCond(&s.mu.Mutex)
	return s
}

// Register is called once, when the DB opens.
func (s *quietScheduler) Register(_ int, db pebble.DBForCompaction) {
	s.db = db
	go s.granter()
}

// Unregister is called once, when the DB closes: no grant after it returns.
func (s *quietScheduler) Unregister() {
	s.stop <- struct{}{}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.unregistered = true
	for s.mu.granting {
		s.mu.grantingDone.Wait()
	}
}

// TrySchedule grants a compaction the DB asks for if fewer than it allows
// run.
func (s *quietScheduler) TrySchedule() (bool, pebble.CompactionGrantHandle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.unregistered {
		return false, nil
	}
	s.mu.lastAllowed = s.db.GetAllowedWithoutPermission()
	if s.mu.lastAllowed <= s.mu.running {
		return false, nil
	}
	s.mu.running++
	signal(s.busy)
	return true, s
}

// UpdateGetAllowedWithoutPermission: a flush may have raised what the DB
// allows; the granter looks.
func (s *quietScheduler) UpdateGetAllowedWithoutPermission() {
	s.mu.Lock()
	allowed := s.db.GetAllowedWithoutPermission()
	more := allowed > s.mu.lastAllowed
	s.mu.lastAllowed = allowed
	s.mu.Unlock()
	if more {
		signal(s.poke)
	}
}

// The grant handle's methods: only Done matters here.
func (s *quietScheduler) Started()                                          {}
func (s *quietScheduler) MeasureCPU(pebble.CompactionGoroutineKind)         {}
func (s *quietScheduler) CumulativeStats(pebble.CompactionGrantHandleStats) {}

// Done: a compaction ended; grant what waits.
func (s *quietScheduler) Done() {
	s.mu.Lock()
	s.mu.running--
	s.grantAndUnlock()
}

// grantAndUnlock grants waiting compactions up to what the DB allows.
// Call with s.mu held; it returns with it released.
func (s *quietScheduler) grantAndUnlock() {
	defer s.mu.Unlock()
	if s.mu.unregistered {
		return
	}
	for s.mu.granting {
		s.mu.grantingDone.Wait()
	}
	if s.mu.unregistered {
		return
	}
	s.mu.lastAllowed = s.db.GetAllowedWithoutPermission()
	n := s.mu.lastAllowed - s.mu.running
	if n <= 0 {
		return
	}
	s.mu.granting = true
	s.mu.Unlock()
	// Schedule runs the compaction's start, which may call back into
	// the DB: not under s.mu.
	for ; n > 0; n-- {
		if waiting, _ := s.db.GetWaitingCompaction(); !waiting {
			break
		}
		if !s.db.Schedule(s) {
			break
		}
		s.mu.Lock()
		s.mu.running++
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.mu.granting = false
	s.mu.grantingDone.Broadcast()
}

// granter grants on a poke, and every grantEvery while compactions run;
// with none running it has no timer.
func (s *quietScheduler) granter() {
	var t *time.Ticker
	var tick <-chan time.Time
	for {
		select {
		case <-s.stop:
			if t != nil {
				t.Stop()
			}
			return
		case <-tick:
			s.ticks.Add(1)
			s.mu.Lock()
			s.grantAndUnlock()
		case <-s.poke:
			s.mu.Lock()
			s.grantAndUnlock()
		case <-s.busy:
		}
		s.mu.Lock()
		running := s.mu.running > 0
		s.mu.Unlock()
		switch {
		case running && t == nil:
			t = time.NewTicker(grantEvery)
			tick = t.C
		case !running && t != nil:
			t.Stop()
			t, tick = nil, nil
		}
	}
}

// signal wakes the goroutine waiting on c, if it is not already woken.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
