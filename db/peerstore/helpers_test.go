package peerstore

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/folio-p2p/folio/db"
)

// openDB opens a small real Pebble DB on disk in a fresh directory.
func openDB(t testing.TB, dir string) *db.DB {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	d, err := db.Open(dir, &db.Options{CacheSize: 16 << 20, MemTableSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// openPS opens a peerstore on d and closes it at the end of the test.
func openPS(t testing.TB, d *db.DB, o *Options) *Peerstore {
	t.Helper()
	ps, err := Open(context.Background(), d, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	return ps
}

// newPS opens a peerstore on a fresh DB; both close at the end of the test.
func newPS(t testing.TB, o *Options) (*Peerstore, *db.DB) {
	t.Helper()
	d := openDB(t, "")
	t.Cleanup(func() { d.Close() })
	return openPS(t, d, o), d
}

// testSeed returns the seed of a randomized test: the environment
// variable env when set, else one from the clock. It is logged so that a
// failure can be replayed.
func testSeed(t testing.TB, env string) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(env); v != "" {
		s, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", env, v, err)
		}
		seed = s
	}
	t.Logf("seed %d (replay with %s=%d)", seed, env, seed)
	return seed
}
