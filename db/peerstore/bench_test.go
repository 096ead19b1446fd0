package peerstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/folio-p2p/folio/db"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	pt "github.com/libp2p/go-libp2p/p2p/host/peerstore/test"
	ma "github.com/multiformats/go-multiaddr"
)

// BenchmarkPeerstoreCompare runs go-libp2p's own BenchmarkPeerstore suite
// against this peerstore (on a real Pebble DB on disk, journal on) and
// against pstoremem, in the same run.
func BenchmarkPeerstoreCompare(b *testing.B) {
	// Each store starts from a collected heap, so that what the previous
	// sub-benchmark left does not land on the next one.
	b.Run("folio", func(b *testing.B) {
		pt.BenchmarkPeerstore(b, func() (pstore.Peerstore, func()) {
			runtime.GC()
			ps, d := benchPS(b, nil)
			return ps, func() { ps.Close(); d.Close() }
		}, "folio")
	})
	b.Run("pstoremem", func(b *testing.B) {
		pt.BenchmarkPeerstore(b, func() (pstore.Peerstore, func()) {
			runtime.GC()
			ps, err := pstoremem.NewPeerstore()
			if err != nil {
				b.Fatal(err)
			}
			return ps, func() { ps.Close() }
		}, "pstoremem")
	})
}

// benchPS opens a peerstore on a fresh DB with the options a vault uses
// (db's defaults with NoWALRecycling), which the caller closes; closing
// it also removes the DB's directory. The libp2p suites call their
// factory with the parent benchmark's b, whose TempDirs live until the
// parent ends: a 1-second run of PeerstoreCompare kept ~230 DBs, 40 GB,
// until then (each with recycled logs of 74 MB allocated).
func benchPS(b testing.TB, o *Options) (*Peerstore, interface{ Close() error }) {
	dir, err := os.MkdirTemp("", "peerstore-bench-")
	if err != nil {
		b.Fatal(err)
	}
	d, err := db.Open(dir, &db.Options{NoWALRecycling: true})
	if err != nil {
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	ps, err := Open(context.Background(), d, o)
	if err != nil {
		d.Close()
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	return ps, removingDB{d, dir}
}

// removingDB closes a DB, then removes its directory.
type removingDB struct {
	*db.DB
	dir string
}

func (r removingDB) Close() error {
	err := r.DB.Close()
	if rmErr := os.RemoveAll(r.dir); err == nil {
		err = rmErr
	}
	return err
}

// fakePeer is a peer as identify leaves it: an Ed25519 ID and key, a few
// addresses, the usual protocols, the agent and protocol versions.
type fakePeer struct {
	id     peer.ID
	pk     crypto.PubKey
	addrs  []ma.Multiaddr
	protos []protocol.ID
}

var commonProtos = []protocol.ID{"/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0",
	"/ipfs/kad/1.0.0", "/libp2p/circuit/relay/0.2.0/stop", "/libp2p/autonat/2/dial-request",
	"/meshsub/1.1.0", "/folio/replicate/1.0.0"}

func fakePeers(tb testing.TB, n int) []fakePeer {
	out := make([]fakePeer, n)
	seed := make([]byte, 32)
	for i := range out {
		rand.Read(seed)
		_, pk, err := crypto.GenerateEd25519Key(bytesReader(seed))
		if err != nil {
			tb.Fatal(err)
		}
		id, _ := peer.IDFromPublicKey(pk)
		out[i] = fakePeer{id: id, pk: pk, protos: commonProtos, addrs: []ma.Multiaddr{
			ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4001", i>>16&255, i>>8&255, i&255)),
			ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.%d/udp/4001/quic-v1", i>>16&255, i>>8&255, i&255)),
			ma.StringCast(fmt.Sprintf("/ip6/fd00::%x:%x/tcp/4001", i>>16, i&0xffff)),
		}}
	}
	return out
}

type bytesReader []byte

func (r bytesReader) Read(p []byte) (int, error) { return copy(p, r), nil }

// fill stores peers in ps as identify would.
func fill(ps pstore.Peerstore, peers []fakePeer) {
	for _, p := range peers {
		ps.AddAddrs(p.id, p.addrs, pstore.RecentlyConnectedAddrTTL)
		ps.AddPubKey(p.id, p.pk)
		ps.SetProtocols(p.id, p.protos...)
		ps.Put(p.id, "AgentVersion", "kubo/0.30.0/")
		ps.Put(p.id, "ProtocolVersion", "ipfs/0.1.0")
	}
}

// BenchmarkOpen100k opens a peerstore whose journal knows 100,000 peers
// (each with 3 addresses, a key, 8 protocols and 2 metadata entries) on a
// real Pebble DB on disk, in three states of the journal:
//
//   - checkpoint: a checkpoint just written (the fold reads chunks only);
//   - checkpoint+50k: then half the peers changed (50,000 change pages,
//     about as many as the default policy lets pile up before the next
//     checkpoint);
//   - no-checkpoint: 100,000 change pages and no checkpoint at all.
//
// ns/op is Peerstore Open alone; open-ms adds db.Open (what a vault does).
func BenchmarkOpen100k(b *testing.B) {
	const n = 100_000
	peers := fakePeers(b, n)
	for _, shape := range []string{"checkpoint", "checkpoint+50k", "no-checkpoint"} {
		b.Run(shape, func(b *testing.B) {
			dir := b.TempDir()
			buildJournal(b, dir, shape, peers)
			benchOpen(b, dir, n)
		})
	}
}

// buildJournal writes the journal of a shape (see BenchmarkOpen100k).
func buildJournal(b *testing.B, dir, shape string, peers []fakePeer) {
	ctx := context.Background()
	d := openDB(b, dir)
	defer d.Close()
	o := &Options{}
	if shape != "checkpoint" {
		o.CheckpointEvery = 1 << 30 // no automatic checkpoint
	}
	ps, err := Open(ctx, d, o)
	if err != nil {
		b.Fatal(err)
	}
	fill(ps, peers)
	if shape != "no-checkpoint" {
		if err := ps.Checkpoint(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if shape == "checkpoint+50k" {
		for _, p := range peers[:len(peers)/2] {
			ps.Put(p.id, "AgentVersion", "kubo/0.31.0/")
		}
	}
	if err := ps.Close(); err != nil {
		b.Fatal(err)
	}
}

func benchOpen(b *testing.B, dir string, n int) {
	ctx := context.Background()
	var total time.Duration
	var pages uint64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		runtime.GC()
		t0 := time.Now()
		d := openDB(b, dir)
		b.StartTimer()
		ps, err := Open(ctx, d, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		total += time.Since(t0)
		pages = ps.Opened().Pages
		if got := len(ps.PeersWithAddrs()); got != n {
			b.Fatalf("%d peers after open, want %d", got, n)
		}
		ps.Close()
		d.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "open-ms")
	b.ReportMetric(float64(pages), "pages")
}

// BenchmarkMemoryPerPeer measures the Go heap each known peer costs: in
// pstoremem, in this peerstore live (filled through the API and flushed),
// and in this peerstore after a restart (folded from the journal).
// Run with -benchtime 1x; the figure is the B/peer metric.
func BenchmarkMemoryPerPeer(b *testing.B) {
	const n = 100_000
	peers := fakePeers(b, n)
	b.Run("pstoremem", func(b *testing.B) {
		for range b.N {
			before := heapInUse()
			ps, _ := pstoremem.NewPeerstore()
			fill(ps, peers)
			b.ReportMetric(float64(heapInUse()-before)/n, "B/peer")
			runtime.KeepAlive(ps)
			ps.Close()
		}
	})
	b.Run("folio-live", func(b *testing.B) {
		for range b.N {
			d := openDB(b, b.TempDir())
			ps, err := Open(context.Background(), d, nil)
			if err != nil {
				b.Fatal(err)
			}
			before := heapInUse()
			fill(ps, peers)
			if err := ps.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(heapInUse()-before)/n, "B/peer")
			ps.Close()
			d.Close()
		}
	})
	b.Run("folio-reopened", func(b *testing.B) {
		dir := b.TempDir()
		buildJournal(b, dir, "checkpoint", peers)
		for range b.N {
			d := openDB(b, dir)
			before := heapInUse()
			ps, err := Open(context.Background(), d, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(heapInUse()-before)/n, "B/peer")
			ps.Close()
			d.Close()
		}
	})
}

// heapInUse returns the live Go heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkReadsCompare measures the reads the libp2p suite does not
// (it only times PeersWithAddrs), on 10,000 identified peers, against
// this peerstore and pstoremem in the same run. The reads start once the
// journal has flushed the fill.
func BenchmarkReadsCompare(b *testing.B) {
	peers := fakePeers(b, 10_000)
	stores := []struct {
		name string
		open func(b *testing.B) (pstore.Peerstore, func())
	}{
		{"folio", func(b *testing.B) (pstore.Peerstore, func()) {
			ps, d := benchPS(b, nil)
			return ps, func() { ps.Close(); d.Close() }
		}},
		{"pstoremem", func(b *testing.B) (pstore.Peerstore, func()) {
			ps, _ := pstoremem.NewPeerstore()
			return ps, func() { ps.Close() }
		}},
	}
	reads := []struct {
		name string
		read func(ps pstore.Peerstore, p fakePeer)
	}{
		{"Addrs", func(ps pstore.Peerstore, p fakePeer) { ps.Addrs(p.id) }},
		{"PeerInfo", func(ps pstore.Peerstore, p fakePeer) { ps.PeerInfo(p.id) }},
		{"PubKey", func(ps pstore.Peerstore, p fakePeer) { ps.PubKey(p.id) }},
		{"GetProtocols", func(ps pstore.Peerstore, p fakePeer) { ps.GetProtocols(p.id) }},
		{"SupportsProtocols", func(ps pstore.Peerstore, p fakePeer) {
			ps.SupportsProtocols(p.id, "/ipfs/kad/1.0.0", "/x/none")
		}},
		{"FirstSupportedProtocol", func(ps pstore.Peerstore, p fakePeer) {
			ps.FirstSupportedProtocol(p.id, "/x/none", "/ipfs/kad/1.0.0")
		}},
		{"GetMetadata", func(ps pstore.Peerstore, p fakePeer) { ps.Get(p.id, "AgentVersion") }},
		{"GetPeerRecord", func(ps pstore.Peerstore, p fakePeer) {
			ps.(pstore.CertifiedAddrBook).GetPeerRecord(p.id)
		}},
	}
	for _, rd := range reads {
		for _, st := range stores {
			b.Run(rd.name+"/"+st.name, func(b *testing.B) {
				ps, cleanup := st.open(b)
				defer cleanup()
				fill(ps, peers)
				if f, ok := ps.(*Peerstore); ok { // time the reads, not the journal catching up
					if err := f.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				b.ResetTimer()
				for i := range b.N {
					rd.read(ps, peers[i%len(peers)])
				}
			})
		}
	}
}
