package db

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestReplicateWakeMissesNoAppend: many books on one session, appended to
// from several goroutines at once, one page at a time, so that appends
// race with the loop taking the dirty set. Every reader ends with every
// page: the single wake path drops no change.
func TestReplicateWakeMissesNoAppend(t *testing.T) {
	ctx := context.Background()
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	const books, appenders, rounds = 120, 4, 25
	ws, rs, keys := scnManyBooks(t, wdb, rdb, books, 0)
	var errs peerErrors
	sw, sr := pipePair(t, wdb, rdb, "writer", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Listener: errs.listener()})
	scnWait(t, "every channel open", func() bool { return errs.channels() == books })

	var wg sync.WaitGroup
	failed := make(chan error, appenders)
	for a := range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range uint64(rounds) {
				for i := a; i < books; i += appenders {
					if _, err := ws[i].Append(ctx, scnPage(fmt.Sprintf("b%d", i), n)); err != nil {
						failed <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(failed)
	if err := <-failed; err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := r.Wait(ctx, rounds)
		cancel()
		if err != nil {
			c, _ := r.Contiguous(0)
			t.Fatalf("book %d: %d pages: %v; writer %s; reader %s", i, c, err, sw.describe(keys[i]), sr.describe(keys[i]))
		}
		waitPages(t, r, rounds)
		waitLength(t, r, rounds)
		scnSameBook(t, r, ws[i])
	}
	if e := errs.all(); len(e) > 0 {
		t.Fatalf("peer errors: %v", e)
	}
}

// describe reports the session's state of the channel of key, read on its
// loop, for a failure message.
func (s *Session) describe(key []byte) string {
	out := "no channel"
	if !s.onLoop(func() {
		if c := s.byKey[string(key)]; c != nil {
			out = fmt.Sprintf("%s len=%d rLen=%d rContig=%d inflight=%d upgrading=%d next=%d retry=%v syncs=%d sent=%d/%d starved=%v sessionInflight=%d",
				c.state, c.b.Length(), c.rLength, c.rContig, len(c.inflight), c.upgrading, c.next, c.retry, c.syncs, c.sLen, c.sContig, c.starved, s.inflight)
		}
	}) {
		return fmt.Sprintf("session ended: %v", s.Err())
	}
	return out
}

// onLoop runs f on the session's loop and waits for it; false if the
// session ended first.
func (s *Session) onLoop(f func()) bool {
	ran := make(chan struct{})
	if s.do(func() { f(); close(ran) }) != nil {
		return false
	}
	select {
	case <-ran:
		return true
	case <-s.done: // (do may hand f to a loop that has just ended)
		return false
	}
}

// marksOf returns how many changes marked s's channels dirty so far.
func (s *Session) marksOf() uint64 {
	s.dirty.mu.Lock()
	defer s.dirty.mu.Unlock()
	return s.dirty.marks
}
