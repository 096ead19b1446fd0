package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/folio-p2p/folio/book"
)

// Fault injection: a scenario runs on errorfs over a crash-simulating memory
// filesystem. A first run counts its filesystem operations; then for each
// operation index i the scenario runs again with an I/O error injected at
// the i-th operation. It must end with an error or succeed; afterwards the
// underlying filesystem, as the process left it and as a power cut would
// leave it, must open as a DB whose books are each at a whole signed state:
// the last acknowledged one or the one being written when the error came.
//
// What Pebble (v2.1.7) does with an I/O error, as these tests observe it:
//   - a failed WAL write or sync during a commit: Logger.Fatalf("pebble:
//     fatal commit error") on the committing goroutine. If Fatalf returned,
//     the commit would report success: Fatalf must not return.
//   - a failed MANIFEST write or sync, also inside Open: Logger.Fatalf.
//   - a failed directory sync when moving a marker: a panic.
//   - a failed WAL rotation (a flush: Close, Clear, DeleteBook, Compact):
//     a panic raised with DB.mu unlocked, which then becomes the runtime's
//     unrecoverable "fatal error: sync: unlock of unlocked mutex".
//   - failed reads, and writes of sstables during flushes and compactions:
//     errors returned, or retried in the background.
//
// With the DB's default logger, Fatalf exits the process. So the first part
// of the scenario (open, appends, truncates, reads) runs in this process
// with a Fatalf that panics and is recovered; its risky part (Clear,
// DeleteBook, Close) runs in a child process on a real directory, with the
// default logger, and the parent checks what the child left behind.

// fatalLogger is the Pebble logger of these tests. Pebble calls Fatalf when
// it cannot go on (a failed WAL write or sync during a commit, a failed
// MANIFEST write). Pebble expects Fatalf not to return. On the scenario's
// own goroutine it panics with fatalError, which the scenario recovers and
// reports as an error; on Pebble's background goroutines it can only record
// the message and return (Pebble then takes its error path).
type fatalLogger struct {
	owner  int64 // goroutine id of the scenario
	mu     sync.Mutex
	fatals []string
}

type fatalError struct{ msg string }

func (e fatalError) Error() string { return "pebble fatal: " + e.msg }

func (*fatalLogger) Infof(string, ...any)  {}
func (*fatalLogger) Errorf(string, ...any) {}
func (l *fatalLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	own := goroutineID() == atomic.LoadInt64(&l.owner)
	l.mu.Lock()
	l.fatals = append(l.fatals, fmt.Sprintf("%s (on the %s goroutine)", msg, map[bool]string{true: "caller's", false: "background"}[own]))
	l.mu.Unlock()
	if own {
		panic(fatalError{msg})
	}
}

func goroutineID() int64 {
	var buf [64]byte
	s := strings.TrimPrefix(string(buf[:runtime.Stack(buf[:], false)]), "goroutine ")
	var id int64
	fmt.Sscan(s, &id)
	return id
}

// faultState is one signed state of a book the scenario went through.
type faultState struct {
	fork  uint64
	pages [][]byte
}

// faultBook tracks one book of the scenario: every state it was asked to
// reach, and how many of them were acknowledged (0: not even registered).
type faultBook struct {
	name   string
	states []faultState // states[0] is the empty, just-registered book
	acked  int          // states[:acked] were acknowledged

	deleting, deleted bool // DeleteBook was called, returned nil
	clearing, cleared bool // Clear(0, clearEnd) was called, returned nil
	clearEnd          int
}

// scenarioLog records what the scenario did and which call failed.
type scenarioLog struct {
	books   []*faultBook
	opened  bool // Open returned a DB
	closed  bool // Close returned nil
	failure error
	// risky is set when the scenario reaches the calls that make Pebble
	// rotate its WAL (Clear and DeleteBook compact, Close flushes): an
	// error there makes Pebble panic with its mutex unlocked, which Go
	// cannot recover. Those faults are injected in a child process.
	risky atomic.Bool
	// ack, when set, is told of every acknowledged call ("a 3": book a
	// acknowledged 3 states; "delete c"; "clear b").
	ack func(string)
}

func (s *scenarioLog) book(name string) *faultBook {
	for _, b := range s.books {
		if b.name == name {
			return b
		}
	}
	b := &faultBook{name: name, states: []faultState{{}}}
	s.books = append(s.books, b)
	return b
}

func (s *scenarioLog) acked(what string) {
	if s.ack != nil {
		s.ack(what)
	}
}

// apply applies an acknowledgement reported by a child process.
func (s *scenarioLog) apply(what string) error {
	switch verb, name, _ := strings.Cut(what, " "); verb {
	case "delete":
		s.book(name).deleting, s.book(name).deleted = true, true
	case "deleting":
		s.book(name).deleting = true
	case "clear":
		s.book(name).clearing, s.book(name).cleared = true, true
	case "clearing":
		s.book(name).clearing = true
	default:
		n, err := strconv.Atoi(name)
		if err != nil {
			return fmt.Errorf("bad acknowledgement %q", what)
		}
		s.book(verb).acked = n
	}
	return nil
}

// attempt records that fb is about to go to the state of pages at fork.
func (fb *faultBook) attempt(fork uint64, pages [][]byte) {
	fb.states = append(fb.states[:fb.acked], faultState{fork: fork, pages: pages})
}

func (fb *faultBook) last() faultState { return fb.states[max(fb.acked-1, 0)] }

func faultPages(tag string, n, size int) [][]byte {
	p := make([][]byte, n)
	for i := range p {
		unit := fmt.Appendf(nil, "%s/%d;", tag, i)
		p[i] = bytes.Repeat(unit, 1+size/len(unit))[:size]
	}
	return p
}

// faultScenario opens a DB in dir on fs and works with three books. It
// returns the first error; a Pebble fatal on this goroutine comes back as
// an error wrapping fatalError. A nil logger is the DB's default, whose
// Fatalf exits the process.
func faultScenario(fs vfs.FS, dir string, logger *fatalLogger, log *scenarioLog) (err error) {
	ctx := context.Background()
	opts := &Options{FS: fs, MemTableSize: 1 << 20}
	if logger != nil {
		atomic.StoreInt64(&logger.owner, goroutineID())
		opts.Logger = logger
	}
	var d *DB
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r)
			// Pebble cannot go on after its fatal errors: closing it
			// would panic again on a broken WAL, or worse. In a real
			// process Fatalf exits; here the DB is abandoned, as the
			// process would be.
			d = nil
		}
		if d != nil && !log.closed {
			closeQuietly(d)
		}
		log.failure = err
	}()
	d, err = Open(dir, opts)
	if err != nil {
		return err
	}
	log.opened = true
	books := map[string]*book.Book{}
	for _, name := range []string{"a", "b", "c"} {
		fb := log.book(name)
		fb.attempt(0, nil)
		if books[name], err = d.Book(ctx, name); err != nil {
			return err
		}
		fb.acked = 1
		log.acked(name + " 1")
	}
	appendTo := func(name string, pages [][]byte) error {
		fb := log.book(name)
		cur := fb.last()
		fb.attempt(cur.fork, append(slices.Clip(cur.pages), pages...))
		res, err := books[name].Append(ctx, pages...)
		if err != nil {
			return err
		}
		fb.acked++
		log.acked(fmt.Sprintf("%s %d", name, fb.acked))
		if res.Length != uint64(len(fb.last().pages)) {
			return fmt.Errorf("append to %s returned length %d, want %d", name, res.Length, len(fb.last().pages))
		}
		return nil
	}
	truncate := func(name string, n int) error {
		fb := log.book(name)
		cur := fb.last()
		fb.attempt(cur.fork+1, cur.pages[:n:n])
		if err := books[name].Truncate(ctx, uint64(n)); err != nil {
			return err
		}
		fb.acked++
		log.acked(fmt.Sprintf("%s %d", name, fb.acked))
		return nil
	}
	steps := []func() error{
		func() error { return appendTo("a", faultPages("a1", 3, 100)) },
		func() error { return appendTo("b", faultPages("b1", 1, 10)) },
		func() error { return appendTo("a", faultPages("a2", 5, 300)) },
		func() error { return appendTo("c", faultPages("c1", 4, 50)) },
		func() error { return appendTo("b", faultPages("b2", 2, 70_000)) }, // spans WAL blocks
		func() error { return truncate("a", 4) },
		func() error { return appendTo("a", faultPages("a3", 2, 20)) },
		func() error {
			_, err := books["b"].Get(ctx, 2, &book.GetOptions{LocalOnly: true})
			return err
		},
		func() error { return appendTo("c", faultPages("c2", 1, 5)) },
		func() error { return truncate("c", 0) },
		func() error { return appendTo("c", faultPages("c3", 2, 40)) },
		func() error {
			log.risky.Store(true)
			fb := log.book("b")
			fb.clearing, fb.clearEnd = true, 2
			log.acked("clearing b")
			if err := d.Clear(ctx, books["b"].Key(), 0, 2); err != nil {
				return err
			}
			fb.cleared = true
			log.acked("clear b")
			return nil
		},
		func() error {
			log.book("c").deleting = true
			log.acked("deleting c")
			if err := d.DeleteBook(ctx, books["c"].Key()); err != nil {
				return err
			}
			log.book("c").deleted = true
			log.acked("delete c")
			return nil
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	if err := d.Close(); err != nil {
		return err
	}
	log.closed = true
	return nil
}

// pebblePanic is a panic of Pebble's own caused by the injected error:
// Pebble panics when it cannot sync a directory ("fsync errors are
// unrecoverable", vfs/atomicfs.Marker.Move).
type pebblePanic struct {
	msg string
	err error
}

func (p pebblePanic) Error() string { return "pebble panic: " + p.msg + ": " + p.err.Error() }
func (p pebblePanic) Unwrap() error { return p.err }

// recovered turns what the scenario recovered into an error, or panics
// again when it is not a fault Pebble raised on purpose.
func recovered(r any) error {
	if fe, ok := r.(fatalError); ok {
		return fe
	}
	if err, ok := r.(error); ok && isInjected(err) {
		return pebblePanic{msg: panicSite(), err: err}
	}
	panic(r)
}

// panicSite returns the Pebble function that raised the panic being
// recovered (called from the deferred function).
func panicSite() string {
	site, panicking := "unknown", false
	for line := range strings.Lines(string(debug.Stack())) {
		switch {
		case strings.HasPrefix(line, "panic("): // the last one is the first panic
			panicking = true
		case panicking && strings.HasPrefix(line, "github.com/cockroachdb/"):
			site, panicking = strings.TrimPrefix(line[:strings.LastIndex(line, "(")], "github.com/cockroachdb/"), false
		}
	}
	return site
}

// isInjected reports whether err wraps the injected error. errors.Is does
// not match errorfs.ErrInjected: the injected value carries its predicate.
func isInjected(err error) bool {
	var le errorfs.LabelledError
	return errors.As(err, &le) && le.Label == errorfs.ErrInjected.Label
}

// closeQuietly closes a DB after a failure, absorbing a Pebble fatal.
func closeQuietly(d *DB) {
	defer func() { recover() }()
	d.Close()
}

// injectAt injects errorfs.ErrInjected at the index-th operation (from 0)
// and remembers that operation. With skip set it counts an operation
// without injecting into it while skip() is true.
type injectAt struct {
	index    int64
	skip     func() bool
	onInject func(errorfs.Op)
	n        atomic.Int64
	mu       sync.Mutex
	op       *errorfs.Op
}

func (j *injectAt) String() string { return fmt.Sprintf("(OnIndex %d)", j.index) }
func (j *injectAt) MaybeError(op errorfs.Op) error {
	if j.n.Add(1)-1 != j.index || (j.skip != nil && j.skip()) {
		return nil
	}
	j.mu.Lock()
	j.op = &op
	j.mu.Unlock()
	if j.onInject != nil {
		j.onInject(op)
	}
	return errorfs.ErrInjected
}

func (j *injectAt) injected() *errorfs.Op {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.op
}

// countingInjector counts every filesystem operation, and those before the
// scenario's risky part, and injects nothing.
type countingInjector struct {
	log      *scenarioLog
	n, safeN atomic.Int64
}

func (c *countingInjector) String() string { return "counter" }
func (c *countingInjector) MaybeError(errorfs.Op) error {
	c.n.Add(1)
	if !c.log.risky.Load() {
		c.safeN.Add(1)
	}
	return nil
}

var opKinds = []string{"Create", "Link", "Open", "OpenDir", "Remove", "RemoveAll", "Rename", "ReuseForWrite",
	"MkdirAll", "Lock", "List", "FilePreallocate", "Stat", "GetDiskUsage", "FileClose", "FileRead", "FileReadAt",
	"FileWrite", "FileWriteAt", "FileStat", "FileSync", "FileSyncData", "FileSyncTo", "FileFlush"}

func opString(op *errorfs.Op) string {
	if op == nil {
		return "nothing"
	}
	kind := fmt.Sprint(int(op.Kind))
	if int(op.Kind) < len(opKinds) {
		kind = opKinds[op.Kind]
	}
	return kind + " " + op.Path[strings.LastIndex(op.Path, "/")+1:]
}

// TestErrorFSEveryOperation injects an error at every filesystem operation
// of the scenario up to its risky part, in this process.
func TestErrorFSEveryOperation(t *testing.T) {
	mem := vfs.NewCrashableMem()
	var log scenarioLog
	counter := &countingInjector{log: &log}
	if err := faultScenario(errorfs.Wrap(mem, counter), "/db", &fatalLogger{}, &log); err != nil {
		t.Fatalf("scenario without faults: %v", err)
	}
	checkFaultRecovery(t, mem, "/db", &log)
	// Background work makes the count vary a little from run to run.
	ops := int(counter.safeN.Load())
	ops += ops / 10
	stride := 1
	if testing.Short() {
		stride = 5
	}
	outcomes := map[string]int{}
	var fatals []string
	for i := 0; i < ops; i += stride {
		mem := vfs.NewCrashableMem()
		var log scenarioLog
		at := &injectAt{index: int64(i), skip: log.risky.Load}
		logger := &fatalLogger{}
		err := faultScenario(errorfs.Wrap(mem, at), "/db", logger, &log)
		var fe fatalError
		var pp pebblePanic
		switch op := at.injected(); {
		case op == nil && err != nil:
			t.Errorf("op %d: nothing injected, yet %v", i, err)
		case op == nil:
			outcomes["nothing injected (risky part)"]++
		case err == nil:
			outcomes["succeeded"]++
		case errors.As(err, &fe):
			outcomes["Pebble fatal on the caller's goroutine ("+strings.Fields(fe.msg)[0]+")"]++
		case errors.As(err, &pp):
			outcomes["Pebble panic: "+pp.msg]++
		case isInjected(err):
			outcomes["clean error"]++
		default:
			t.Errorf("op %d (%s): error that does not wrap the injected one: %v", i, opString(op), err)
		}
		logger.mu.Lock()
		for _, f := range logger.fatals {
			fatals = append(fatals, fmt.Sprintf("op %d (%s): %s", i, opString(at.injected()), f))
		}
		logger.mu.Unlock()
		if !t.Run(fmt.Sprintf("op=%d", i), func(t *testing.T) {
			checkFaultRecovery(t, mem, "/db", &log)
		}) {
			t.Fatalf("op %d (%s): scenario ended with %v", i, opString(at.injected()), err)
		}
	}
	t.Logf("%d operations before the risky part (%d in all); outcomes: %v", counter.safeN.Load(), counter.n.Load(), outcomes)
	for _, f := range fatals {
		t.Log(f)
	}
}

// TestErrorFSHelper is the child process of TestErrorFSRiskyPart.
func TestErrorFSHelper(t *testing.T) {
	dir := os.Getenv("FOLIO_ERRORFS_DIR")
	if dir == "" {
		t.Skip("helper process of TestErrorFSRiskyPart")
	}
	index, err := strconv.ParseInt(os.Getenv("FOLIO_ERRORFS_INDEX"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	at := &injectAt{index: index, onInject: func(op errorfs.Op) { fmt.Fprintf(os.Stdout, "INJECTED %s\n", opString(&op)) }}
	log := &scenarioLog{ack: func(s string) { fmt.Fprintf(os.Stdout, "ACK %s\n", s) }}
	// The DB's default logger: Pebble's Fatalf exits, as in production.
	err = faultScenario(errorfs.Wrap(vfs.Default, at), dir, nil, log)
	if err != nil {
		fmt.Fprintf(os.Stdout, "RESULT error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	} else {
		fmt.Fprintf(os.Stdout, "RESULT ok\n")
	}
}

// TestErrorFSRiskyPart injects an error at each filesystem operation of
// the scenario's risky part (Clear, DeleteBook, Close: they make Pebble
// flush), each in a child process on a real directory, since Pebble may
// end the process. Then it reopens the directory and checks the books.
func TestErrorFSRiskyPart(t *testing.T) {
	if os.Getenv("FOLIO_ERRORFS_DIR") != "" {
		t.Skip("in the helper process")
	}
	var full scenarioLog
	counter := &countingInjector{log: &full}
	dir := t.TempDir()
	if err := faultScenario(errorfs.Wrap(vfs.Default, counter), dir, nil, &full); err != nil {
		t.Fatalf("scenario without faults: %v", err)
	}
	first, last := int(counter.safeN.Load()), int(counter.n.Load())
	first -= first / 20
	last += last / 20
	stride := 1
	if testing.Short() {
		stride = 4
	}
	outcomes := map[string]int{}
	for i := first; i < last; i += stride {
		dir := filepath.Join(t.TempDir(), "db")
		cmd := helperCmd("TestErrorFSHelper", "FOLIO_ERRORFS_DIR="+dir, fmt.Sprintf("FOLIO_ERRORFS_INDEX=%d", i))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, runErr := cmd.Output()
		log := &scenarioLog{}
		for _, fb := range full.books { // the states a run may reach
			log.books = append(log.books, &faultBook{name: fb.name, states: fb.states, clearEnd: fb.clearEnd})
		}
		result, injected := "", ""
		for line := range strings.Lines(string(out)) {
			line = strings.TrimSpace(line)
			if v, ok := strings.CutPrefix(line, "ACK "); ok {
				log.opened = true
				if err := log.apply(v); err != nil {
					t.Fatal(err)
				}
			}
			if v, ok := strings.CutPrefix(line, "INJECTED "); ok {
				injected = v
			}
			if v, ok := strings.CutPrefix(line, "RESULT "); ok {
				result = v
			}
		}
		outcome := "returned " + strings.Fields(result + " ?")[0]
		if injected == "" {
			injected, outcome = "nothing", "nothing injected"
		}
		if result == "" {
			outcome = "process died: " + deathCause(stderr.String())
		} else if runErr != nil {
			t.Fatalf("op %d: helper printed a result yet failed: %v\n%s", i, runErr, stderr.String())
		}
		outcomes[outcome]++
		if !t.Run(fmt.Sprintf("op=%d", i), func(t *testing.T) {
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				return // failed before creating anything
			}
			log.opened = true
			checkFaultRecovery(t, vfs.Default, dir, log)
		}) {
			t.Fatalf("op %d (%s): child ended with %q / %s", i, injected, result, deathCause(stderr.String()))
		}
		if testing.Verbose() {
			t.Logf("op %d (%s): %s", i, injected, outcome)
		}
	}
	t.Logf("risky part: operations %d to %d; outcomes: %v", counter.safeN.Load(), counter.n.Load(), outcomes)
}

// deathCause summarises the stderr of a child process that died: Pebble's
// Fatalf message (log.Fatalf, without its time stamp), or the panic and the
// Pebble function that raised it, and a Go runtime fatal error if one
// followed.
func deathCause(stderr string) string {
	var cause, where, fatal string
	for line := range strings.Lines(stderr) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "fatal error: "):
			fatal = "; then " + line
		case strings.HasPrefix(line, "panic: ") && cause == "":
			cause = "panic"
		case cause == "panic" && where == "" && strings.HasPrefix(line, "github.com/cockroachdb/pebble/"):
			where = " in " + strings.TrimPrefix(line[:strings.LastIndex(line, "(")], "github.com/cockroachdb/")
		case cause == "" && len(line) > 20 && line[4] == '/' && line[7] == '/':
			cause = "Fatalf: " + line[20:] // log.Fatalf: "2006/01/02 15:04:05 msg"
		}
	}
	if cause == "" {
		return "(no message)"
	}
	return cause + where + fatal
}

// checkFaultRecovery checks the DB in dir after a faulty run. On a MemFS
// it opens two crash clones: one keeps every unsynced write (the process
// exited) and one keeps none (the machine lost power); on another FS it
// opens dir itself. Every book must be at a whole signed state the
// scenario allows.
func checkFaultRecovery(t *testing.T, fs vfs.FS, dir string, log *scenarioLog) {
	t.Helper()
	mem, ok := fs.(*vfs.MemFS)
	if !ok {
		checkFaultDB(t, fs, dir, log, "as left")
		return
	}
	for _, percent := range []int{100, 0} {
		clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: percent, RNG: rand.New(rand.NewPCG(1, 2))})
		checkFaultDB(t, clone, dir, log, fmt.Sprintf("%d%% of unsynced data kept", percent))
	}
}

func checkFaultDB(t *testing.T, fs vfs.FS, dir string, log *scenarioLog, how string) {
	t.Helper()
	d, err := Open(dir, &Options{FS: fs})
	if err != nil {
		if !log.opened {
			return // the DB never opened: nothing to find
		}
		t.Fatalf("reopen (%s) after %v: %v", how, log.failure, err)
	}
	defer d.Close()
	for _, fb := range log.books {
		checkFaultBook(t, d, fb, how)
	}
}

func checkFaultBook(t *testing.T, d *DB, fb *faultBook, how string) {
	t.Helper()
	ctx := context.Background()
	_, err := d.LookupName(fb.name)
	switch {
	case fb.deleted && err == nil:
		t.Fatalf("%s (%s): deleted, yet still in the catalogue", fb.name, how)
	case errors.Is(err, ErrNotFound) && (fb.acked == 0 || fb.deleting):
		return // never registered, or deleted
	case err != nil:
		t.Fatalf("%s (%s, acknowledged %d states) lost from the catalogue: %v", fb.name, how, fb.acked, err)
	}
	b, err := d.Book(ctx, fb.name)
	if err != nil {
		t.Fatal(err)
	}
	var match *faultState
	for i := max(fb.acked-1, 0); i < len(fb.states) && i <= fb.acked; i++ {
		s := fb.states[i]
		if b.Length() == uint64(len(s.pages)) && b.Fork() == s.fork {
			match = &s
		}
	}
	if match == nil {
		t.Fatalf("%s (%s): length %d fork %d is not a state the scenario allows (acknowledged %d of %d states)",
			fb.name, how, b.Length(), b.Fork(), fb.acked, len(fb.states))
	}
	var total uint64
	for i, want := range match.pages {
		total += uint64(len(want))
		p, err := b.Get(ctx, uint64(i), &book.GetOptions{LocalOnly: true})
		inClear := fb.clearing && i < fb.clearEnd
		if inClear && errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil || !bytes.Equal(p, want) {
			t.Fatalf("%s (%s): page %d of %d: %.20q, %v; want %.20q", fb.name, how, i, len(match.pages), p, err, want)
		}
		if inClear && fb.cleared {
			t.Fatalf("%s (%s): page %d was cleared, yet is there", fb.name, how, i)
		}
	}
	if b.ByteLength() != total {
		t.Fatalf("%s (%s): byte length %d, pages sum to %d", fb.name, how, b.ByteLength(), total)
	}
	auditClean(t, b)
}
