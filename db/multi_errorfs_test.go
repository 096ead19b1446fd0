package db

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/folio-p2p/folio/book"
)

// Fault injection into AppendMulti (see errorfs_test.go for how Pebble
// meets I/O errors): a scenario of multi-book appends runs once per
// filesystem operation with an error injected at that operation. After
// it, as the process left the files and as a power cut would, every book
// must hold the appends acknowledged, plus possibly the one in flight,
// and that one in all its books or in none.

// multiSteps are the scenario's appends: per step, pages per book (a, b, c).
var multiSteps = [][3]int{{1, 1, 1}, {2, 0, 1}, {0, 3, 3}, {1, 1, 0}, {4, 1, 4}, {0, 0, 2}, {1, 2, 3}}

// multiStepPages is what step s appends to book i.
func multiStepPages(s, i int) [][]byte {
	size := 100
	if s == 4 && i == 1 {
		size = 40_000 // spans WAL blocks (but fills no memtable: that would rotate the WAL)
	}
	return faultPages(fmt.Sprintf("s%d-%c", s, 'a'+i), multiSteps[s][i], size)
}

// multiScenario opens a DB and runs multiSteps, counting acknowledged
// steps in acked (-1 until the books are open).
func multiScenario(fs vfs.FS, logger *fatalLogger, acked *atomic.Int64) (err error) {
	ctx := context.Background()
	atomic.StoreInt64(&logger.owner, goroutineID())
	// The DB is never closed, as if the process ended after the scenario:
	// Close flushes and rotates the WAL, where an injected error is a
	// fatal runtime error (errorfs_test.go tests that in a child process).
	// The memtable is big enough that no append rotates the WAL either.
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r)
		}
	}()
	acked.Store(-1)
	d, err := Open("/db", &Options{FS: fs, MemTableSize: 64 << 20, Logger: logger})
	if err != nil {
		return err
	}
	var bs [3]*book.Book
	for i := range bs {
		if bs[i], err = d.Book(ctx, string(rune('a'+i))); err != nil {
			return err
		}
	}
	acked.Store(0)
	for s := range multiSteps {
		var parts []Append
		for i, b := range bs {
			parts = append(parts, Append{Book: b, Pages: multiStepPages(s, i)})
		}
		if _, err := d.AppendMulti(ctx, book.SyncDefault, parts...); err != nil {
			return err
		}
		acked.Add(1)
	}
	return nil
}

func TestAppendMultiErrorFS(t *testing.T) {
	var acked atomic.Int64
	counter := &countingInjector{log: &scenarioLog{}}
	if err := multiScenario(errorfs.Wrap(vfs.NewCrashableMem(), counter), &fatalLogger{}, &acked); err != nil {
		t.Fatalf("without faults: %v", err)
	}
	ops := int(counter.n.Load()) + int(counter.n.Load())/10
	outcomes := map[string]int{}
	for i := range ops {
		mem := vfs.NewCrashableMem()
		at := &injectAt{index: int64(i)}
		err := multiScenario(errorfs.Wrap(mem, at), &fatalLogger{}, &acked)
		var fe fatalError
		switch {
		case err == nil:
			outcomes["succeeded"]++
		case errors.As(err, &fe):
			outcomes["Pebble fatal"]++
		case isInjected(err):
			outcomes["error"]++
		default:
			t.Fatalf("op %d (%s): an error that does not wrap the injected one: %v", i, opString(at.injected()), err)
		}
		n := int(acked.Load())
		for _, percent := range []int{100, 0} { // the process exited; the machine lost power
			clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: percent, RNG: rand.New(rand.NewPCG(1, 2))})
			if err := checkMultiSteps(clone, n); err != nil {
				t.Fatalf("op %d (%s), %d steps acknowledged, %d%% of unsynced data kept: %v", i, opString(at.injected()), n, percent, err)
			}
		}
	}
	t.Logf("%d operations; outcomes %v", ops, outcomes)
}

// checkMultiSteps opens the DB in fs and checks that its books hold the
// first k steps, k = acked or acked+1, in every book alike.
func checkMultiSteps(fs vfs.FS, acked int) error {
	if acked < 0 {
		return nil // the books were never all registered
	}
	d, err := Open("/db", &Options{FS: fs})
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer d.Close()
	var got [3][]string
	for i := range got {
		b, err := d.Book(context.Background(), string(rune('a'+i)))
		if err != nil {
			return err
		}
		if rep, err := b.Audit(context.Background()); err != nil || !rep.OK() {
			return fmt.Errorf("audit %c: %v %v", 'a'+i, err, rep)
		}
		for j := range b.Length() {
			p, err := b.Get(context.Background(), j, &book.GetOptions{LocalOnly: true})
			if err != nil {
				return err
			}
			got[i] = append(got[i], string(p))
		}
	}
	for k := acked; k <= min(acked+1, len(multiSteps)); k++ {
		if sameAsSteps(got, k) {
			return nil
		}
	}
	return fmt.Errorf("books hold %d, %d, %d pages: not the first %d or %d steps in every book", len(got[0]), len(got[1]), len(got[2]), acked, acked+1)
}

func sameAsSteps(got [3][]string, k int) bool {
	for i := range got {
		var want []string
		for s := range k {
			for _, p := range multiStepPages(s, i) {
				want = append(want, string(p))
			}
		}
		if fmt.Sprint(want) != fmt.Sprint(got[i]) {
			return false
		}
	}
	return true
}
