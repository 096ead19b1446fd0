package db

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
)

// auditClean fails the test unless b audits without a problem.
func auditClean(t testing.TB, b *book.Book) *book.AuditReport {
	t.Helper()
	rep, err := b.Audit(context.Background())
	if err != nil {
		t.Fatalf("audit %s: %v", b.Name(), err)
	}
	if !rep.OK() {
		t.Fatalf("audit %s (length %d): %v", b.Name(), b.Length(), rep.Problems)
	}
	return rep
}

// auditAll audits every book in d's catalogue.
func auditAll(t testing.TB, d *DB) {
	t.Helper()
	infos, err := d.Books()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		b, err := d.OpenKey(context.Background(), in.Key)
		if err != nil {
			t.Fatalf("open %x: %v", in.Key[:8], err)
		}
		auditClean(t, b)
	}
}

// testSeed returns the seed of a randomized test: seed when non-zero (a
// flag), else the value of the environment variable env when set, else
// one derived from the clock. It is logged so that a failure can be
// replayed.
func testSeed(t testing.TB, env string, seed int64) uint64 {
	t.Helper()
	if v := os.Getenv(env); v != "" && seed == 0 {
		s, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", env, v, err)
		}
		seed = int64(s)
	}
	if seed == 0 {
		seed = time.Now().UnixNano() ^ int64(os.Getpid())<<32
	}
	t.Logf("seed %d (replay with %s=%d)", uint64(seed), env, uint64(seed))
	return uint64(seed)
}

// helperCmd returns a command that runs this test binary again, running
// only the test called name, with env added to its environment: a second
// OS process for the tests that need one.
func helperCmd(name string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
