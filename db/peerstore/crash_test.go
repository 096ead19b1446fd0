package peerstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	mockclock "github.com/benbjohnson/clock"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/folio-p2p/folio/db"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Crash tests: random writes on Pebble's crash-simulating memory
// filesystem, with explicit Flushes now and then and background flushes
// and checkpoints all the time; at a random moment the filesystem is
// crash-cloned (synced data kept, a random share of the rest too) and the
// clone opened. Every change made before the last Flush must be there,
// and each book of each peer must hold a state it really had since.

func TestCrashLosesAtMostTheUnflushed(t *testing.T) {
	base := testSeed(t, "FOLIO_PEERSTORE_CRASH_SEED")
	for i := range 12 {
		seed := base + uint64(i)
		if !t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { crashOnce(t, seed) }) {
			t.Fatalf("replay with FOLIO_PEERSTORE_CRASH_SEED=%d", seed)
		}
	}
}

// bookStates is, per peer and book, every state the book had since the
// last Flush (the states a crash may leave).
type bookStates map[peer.ID]*[5][]string

func (h bookStates) note(p peer.ID, c canonPeer) {
	s, ok := h[p]
	if !ok {
		s = new([5][]string)
		h[p] = s
	}
	for i, v := range c.parts() {
		if !slices.Contains(s[i], v) {
			s[i] = append(s[i], v)
		}
	}
}

// parts returns the peer's books, each as one comparable string.
func (c canonPeer) parts() [5]string {
	return [5]string{fmt.Sprint(c.addrs), string(c.record), string(c.pubKey), fmt.Sprint(c.protos), fmt.Sprint(c.meta)}
}

var bookNames = [5]string{"addrs", "signed record", "public key", "protocols", "metadata"}

func crashOnce(t *testing.T, seed uint64) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 3))
	fs := vfs.NewCrashableMem()
	clk := mockclock.NewMock()
	clk.Set(time.Unix(1_700_000_000, 0))
	d, err := db.Open("/db", &db.Options{FS: fs, CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	o := &Options{Clock: clk, FlushDelay: time.Duration(r.IntN(3)) * time.Millisecond, FlushChanges: 1 + r.IntN(20), CheckpointEvery: 20 + r.IntN(50)}
	ps, err := Open(ctx, d, o)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	peers := make([]peer.ID, 12)
	for i := range peers {
		peers[i] = peer.ID(fmt.Sprint("peer-", i))
	}
	history := bookStates{}
	reset := func() {
		clear(history)
		for _, p := range peers {
			history.note(p, ps.pr.canonPeer(p, clk.Now()))
		}
	}
	reset()
	steps := 100 + r.IntN(400)
	for i := range steps {
		if r.IntN(40) == 0 {
			if err := ps.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			reset()
		}
		randomOp(r, ps, peers)
		for _, p := range peers { // the op may touch any peer only through its own; note all, cheaply enough
			history.note(p, ps.pr.canonPeer(p, clk.Now()))
		}
		if i%7 == 0 {
			time.Sleep(100 * time.Microsecond) // let background flushes run
		}
	}
	clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: r.IntN(100), RNG: rand.New(rand.NewPCG(seed, 4))})
	d2, err := db.Open("/db", &db.Options{FS: clone, CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	o2 := *o
	o2.ExactReopen = true // what was journaled, not the reopen grace (TestReopen*)
	ps2, err := Open(ctx, d2, &o2)
	if err != nil {
		t.Fatalf("open after the crash: %v", err)
	}
	defer ps2.Close()
	for _, p := range peers {
		got := ps2.pr.canonPeer(p, clk.Now()).parts()
		for b, v := range got {
			if !slices.Contains(history[p][b], v) {
				t.Fatalf("peer %s %s after the crash: %q, never held since the last Flush (held: %q)", p, bookNames[b], v, history[p][b])
			}
		}
	}
	auditOK(t, ps2)
}
