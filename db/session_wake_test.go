package db

import (
	"context"
	"fmt"
	"sync"
	"testing"
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
	pipePair(t, wdb, rdb, "writer", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Listener: errs.listener()})
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
		waitPages(t, r, rounds)
		waitLength(t, r, rounds)
		scnSameBook(t, r, ws[i])
	}
	if e := errs.all(); len(e) > 0 {
		t.Fatalf("peer errors: %v", e)
	}
}
