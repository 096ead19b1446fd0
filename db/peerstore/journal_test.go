package peerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
)

func addr(i int) ma.Multiaddr {
	return ma.StringCast(fmt.Sprintf("/ip4/10.0.%d.%d/tcp/4001", i>>8&255, i&255))
}

func TestOneAppendPerFlush(t *testing.T) {
	ctx := context.Background()
	ps, _ := newPS(t, &Options{FlushDelay: time.Hour, FlushChanges: 1 << 30})
	before := ps.Journal().Length()
	for i := range 100 {
		ps.AddAddr(peer.ID(fmt.Sprint("p", i%10)), addr(i), time.Hour)
	}
	if ps.Journal().Length() != before {
		t.Fatal("pages appended before the flush")
	}
	if m := ps.Metrics(); m.PendingChanges != 10 {
		t.Fatalf("%d peers with pending changes, want 10", m.PendingChanges)
	}
	if err := ps.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	m := ps.Metrics()
	if got := ps.Journal().Length() - before; got != 10 || m.Flushes != 1 || m.PendingChanges != 0 {
		t.Fatalf("flush appended %d pages in %d appends (want 10 in 1), %d pending", got, m.Flushes, m.PendingChanges)
	}
	if err := ps.Flush(ctx); err != nil || ps.Metrics().Flushes != 1 {
		t.Fatalf("an empty flush appended: %v", err)
	}
}

func TestFlushTriggers(t *testing.T) {
	t.Run("changes", func(t *testing.T) {
		ps, _ := newPS(t, &Options{FlushDelay: time.Hour, FlushChanges: 5})
		for i := range 4 {
			ps.AddAddr("p", addr(i), time.Hour) // one peer: one pending
		}
		for i := range 3 {
			ps.Put(peer.ID(fmt.Sprint("q", i)), "k", i)
		}
		time.Sleep(10 * time.Millisecond)
		if ps.Journal().Length() != 0 {
			t.Fatal("flushed before FlushChanges peers changed")
		}
		ps.SetProtocols("r", "/x")
		waitFor(t, func() bool { return ps.Journal().Length() > 0 }, "a flush once FlushChanges peers changed")
	})
	t.Run("delay", func(t *testing.T) {
		ps, _ := newPS(t, &Options{FlushDelay: 10 * time.Millisecond})
		ps.AddAddr("p", addr(1), time.Hour)
		waitFor(t, func() bool { return ps.Journal().Length() > 0 }, "a flush after FlushDelay")
	})
	t.Run("close", func(t *testing.T) {
		ps, d := newPS(t, &Options{FlushDelay: time.Hour})
		ps.AddAddr("p", addr(1), time.Hour)
		if err := ps.Close(); err != nil {
			t.Fatal(err)
		}
		if err := ps.Close(); err != nil {
			t.Fatal("second Close:", err)
		}
		if err := ps.Flush(context.Background()); !errors.Is(err, ErrClosed) {
			t.Fatalf("Flush after Close: %v", err)
		}
		if len(openPS(t, d, nil).Addrs("p")) != 1 {
			t.Fatal("Close did not flush")
		}
	})
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// journalBytes returns every stored page of the journal, concatenated.
func journalBytes(t *testing.T, b *book.Book) []byte {
	t.Helper()
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var all []byte
	if err := snap.Pages(0, b.Length(), func(_ uint64, p []byte) error { all = append(all, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	return all
}

func TestPrivateKeysNeverJournaled(t *testing.T) {
	ctx := context.Background()
	ps, _ := newPS(t, &Options{NoClear: true})
	var secrets [][]byte
	for _, typ := range []int{ic.Ed25519, ic.Secp256k1, ic.ECDSA} {
		sk, pk, err := ic.GenerateKeyPair(typ, 256)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := peer.IDFromPrivateKey(sk)
		if err := ps.AddPrivKey(p, sk); err != nil {
			t.Fatal(err)
		}
		ps.AddPubKey(p, pk)
		ps.AddAddr(p, addr(1), time.Hour)
		raw, _ := sk.Raw()
		secrets = append(secrets, raw[:32]) // the secret part (Ed25519: the seed)
	}
	if err := ps.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	all := journalBytes(t, ps.Journal())
	if len(all) == 0 {
		t.Fatal("empty journal")
	}
	for _, s := range secrets {
		if bytes.Contains(all, s) {
			t.Fatal("a private key is in the journal")
		}
	}
}

func TestCheckpointBoundsJournal(t *testing.T) {
	ctx := context.Background()
	o := &Options{CheckpointEvery: 200, FlushChanges: 64, FlushDelay: time.Millisecond}
	ps, d := newPS(t, o)
	for round := range 200 { // address churn: every round replaces every peer's addresses
		for p := range 20 {
			ps.SetAddrs(peer.ID(fmt.Sprint("peer", p)), []ma.Multiaddr{addr(round), addr(round + 1)}, time.Hour)
			ps.SetAddrs(peer.ID(fmt.Sprint("peer", p)), []ma.Multiaddr{addr(round - 1)}, -1)
		}
		if round%20 == 0 {
			if err := ps.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	auditOK(t, ps)
	m := ps.Metrics()
	first, err := firstStored(mustSnap(t, ps.Journal()))
	if err != nil {
		t.Fatal(err)
	}
	stored := ps.Journal().Length() - first
	t.Logf("journal: %d pages written, %d stored from %d, %d checkpoints", m.JournalLength, stored, first, m.Checkpoints)
	gen := m.Generation
	if m.Checkpoints == 0 || gen == 0 || first != 0 || stored > 3*200+64 {
		t.Fatalf("journal not bounded: %d checkpoints, generation %d, first stored page %d, %d stored", m.Checkpoints, gen, first, stored)
	}
	// Only the current generation is left: no per-page leftovers of the
	// earlier ones.
	if names, _ := d.Names("peerstore"); len(names) != 1 || names[0] != ps.Journal().Name() {
		t.Fatalf("journal books %v, want only %s", names, ps.Journal().Name())
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	ps2 := openPS(t, d, o)
	if info := ps2.Opened(); info.FirstPage != first || info.Peers != 20 {
		t.Fatalf("opened %+v, want from page %d with 20 peers", info, first)
	}
	auditOK(t, ps2)
}

func mustSnap(t *testing.T, b *book.Book) *book.Snapshot {
	t.Helper()
	s, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestFullRebuildAfterConcurrentOps: writers race, flushes and checkpoints
// run meanwhile; then folding the whole journal from page 0, and folding
// it from the last checkpoint, must both give the live state.
func TestFullRebuildAfterConcurrentOps(t *testing.T) {
	ctx := context.Background()
	seed := testSeed(t, "FOLIO_PEERSTORE_SEED")
	o := &Options{NoClear: true, CheckpointEvery: 50, FlushChanges: 16, FlushDelay: time.Millisecond}
	ps, _ := newPS(t, o)
	peers := make([]peer.ID, 30)
	for i := range peers {
		peers[i] = peer.ID(fmt.Sprint("peer-", i))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := range 1500 {
				randomOp(r, ps, peers)
				if i%40 == 0 {
					time.Sleep(time.Millisecond) // let flushes and checkpoints interleave
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			time.Sleep(5 * time.Millisecond)
			if err := ps.Checkpoint(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	rep := auditOK(t, ps)
	if rep.FirstPage != 0 {
		t.Fatalf("NoClear: fold started at page %d", rep.FirstPage)
	}
	// From the last checkpoint too.
	m := ps.Metrics()
	fresh := newProjection(&ps.o)
	f := newFolder(fresh)
	snap := mustSnap(t, ps.Journal())
	if err := f.fold(ctx, snap, m.LastCheckpoint, "peerstore"); err != nil {
		t.Fatal(err)
	}
	f.finish(false)
	now := ps.o.Clock.Now()
	if diff := diffCanonical(ps.pr.canonical(now), fresh.canonical(now)); len(diff) > 0 {
		t.Fatalf("fold from checkpoint %d differs: %v", m.LastCheckpoint, diff)
	}
	t.Logf("%d pages, %d checkpoints, last at %d", m.JournalLength, m.Checkpoints, m.LastCheckpoint)
}

// randomOp is one random call of any kind.
func randomOp(r *rand.Rand, ps *Peerstore, peers []peer.ID) {
	p := peers[r.IntN(len(peers))]
	ttls := []time.Duration{time.Hour, pstore.RecentlyConnectedAddrTTL, pstore.ConnectedAddrTTL, pstore.PermanentAddrTTL, -1}
	switch r.IntN(12) {
	case 0, 1:
		ps.AddAddrs(p, []ma.Multiaddr{addr(r.IntN(20)), addr(r.IntN(20))}, ttls[r.IntN(len(ttls))])
	case 2:
		ps.SetAddrs(p, []ma.Multiaddr{addr(r.IntN(20))}, ttls[r.IntN(len(ttls))])
	case 3:
		ps.UpdateAddrs(p, ttls[r.IntN(len(ttls))], ttls[r.IntN(len(ttls))])
	case 4:
		ps.ClearAddrs(p)
	case 5, 6:
		ps.AddProtocols(p, protocol.ID(fmt.Sprint("/p/", r.IntN(5))))
	case 7:
		ps.SetProtocols(p, protocol.ID(fmt.Sprint("/p/", r.IntN(5))), "/q")
	case 8:
		ps.Put(p, fmt.Sprint("k", r.IntN(3)), r.IntN(4))
	case 9:
		ps.RemovePeer(p)
	case 10:
		ps.MergePeer(PeerData{ID: p, Addrs: []AddrEntry{{Addr: addr(r.IntN(20))}}, Protocols: []protocol.ID{"/m"}}, 0)
	default:
		ps.SetPeer(PeerData{ID: p, Protocols: []protocol.ID{"/s"}, Metadata: map[string]any{"a": "b"}}, BookProtocols|BookMetadata)
	}
}

func TestCorruptPageNamedOnOpen(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		page []byte
		want string
	}{
		{"garbage", []byte{0xff, 0xff, 0xff}, "journal page 3"},
		{"newer version", []byte{0x08, 0x02}, "format version 2"},
		{"no body", []byte{0x08, 0x01}, "without a body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps, d := newPS(t, nil)
			for i := range 3 {
				ps.AddAddr(peer.ID(fmt.Sprint("p", i)), addr(i), time.Hour)
				if err := ps.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := ps.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := ps.Journal().Append(ctx, c.page); err != nil {
				t.Fatal(err)
			}
			_, err := Open(ctx, d, nil)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "journal page 3") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("open: %v; want ErrCorrupt naming page 3 and %q", err, c.want)
			}
		})
	}
	t.Run("first stored page not a checkpoint", func(t *testing.T) {
		ps, d := newPS(t, nil)
		for i := range 3 {
			ps.AddAddr(peer.ID(fmt.Sprint("p", i)), addr(i), time.Hour)
			ps.Flush(ctx)
		}
		ps.Close()
		if err := ps.Journal().Clear(ctx, 0, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, d, nil); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "journal page 1") {
			t.Fatalf("open: %v", err)
		}
	})
}

func TestJournalErrors(t *testing.T) {
	var reported []error
	var mu sync.Mutex
	ps, d := newPS(t, &Options{FlushDelay: time.Hour, OnError: func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}})
	ps.AddAddr("p", addr(1), time.Hour)
	d.Close() // under the peerstore's feet
	if err := ps.Flush(context.Background()); !errors.Is(err, book.ErrClosed) {
		t.Fatalf("Flush on a closed DB: %v", err)
	}
	if err := ps.Close(); !errors.Is(err, book.ErrClosed) {
		t.Fatalf("Close on a closed DB: %v", err)
	}
	if ps.Metrics().Errors == 0 {
		t.Fatal("no error counted")
	}
	if len(ps.Addrs("p")) != 1 {
		t.Fatal("the in-memory books lost data")
	}
}
