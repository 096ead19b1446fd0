package peerstore

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/folio-p2p/folio/db"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// BenchmarkChurnDisk: address churn (ChurnUpdates address updates spread
// over ChurnPeers peers, each replacing one of the peer's two addresses),
// on a real Pebble DB on disk with db's defaults and the peerstore's.
// Reported: the DB directory's size after Close ("disk-MB"), the size of
// a fresh store holding the same final state ("fresh-MB"), their ratio,
// the same three for the tables alone, without Pebble's write-ahead logs
// ("sst-MB", "fresh-sst-MB", "sst-ratio": the logs are a constant of the
// DB, up to MemTableStopWritesThreshold+2 logs kept for recycling,
// whatever the history), and the time to open the churned store again
// ("open-ms"). "alloc-MB" and "alloc-ratio" count the blocks allocated
// on disk (du), which include each write-ahead log's preallocation (110 %
// of the memtable size). Run with db's defaults ("recycle") and with
// db.Options.NoWALRecycling ("norecycle", what the vault uses).
func BenchmarkChurnDisk(b *testing.B) {
	const churnPeers, churnUpdates = 3_000, 1_000_000
	for _, c := range []struct {
		name string
		o    *db.Options
	}{{"recycle", nil}, {"norecycle", &db.Options{NoWALRecycling: true}}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				churnOnce(b, c.o, churnPeers, churnUpdates)
			}
		})
	}
}

func churnOnce(b *testing.B, o *db.Options, nPeers, updates int) {
	ctx := context.Background()
	dir := b.TempDir()
	d, err := db.Open(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	ps, err := Open(ctx, d, nil)
	if err != nil {
		b.Fatal(err)
	}
	peers := make([]peer.ID, nPeers)
	for i := range peers {
		peers[i] = peer.ID(fmt.Sprintf("churn-peer-%05d", i))
	}
	addr := func(i int) ma.Multiaddr {
		return ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/%d", i>>16&255, i>>8&255, i&255, 4000+i%1000))
	}
	start := time.Now()
	for i := range updates {
		p := peers[i%nPeers]
		ps.SetAddrs(p, []ma.Multiaddr{addr(i)}, time.Hour)
		if i >= 2*nPeers {
			ps.SetAddrs(p, []ma.Multiaddr{addr(i - 2*nPeers)}, -1) // two addresses per peer
		}
	}
	if err := ps.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "write-s")
	final := ps.ListPeers(BookAddrs)
	if err := ps.Close(); err != nil {
		b.Fatal(err)
	}
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	churned, churnedSST, churnedAlloc := dirSize(b, dir)
	if os.Getenv("FOLIO_CHURN_LS") != "" { // where the bytes are
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if info, err := e.Info(); err == nil {
				b.Logf("%10d %10d %s", info.Size(), info.Sys().(*syscall.Stat_t).Blocks*512, e.Name())
			}
		}
	}

	freshDir := b.TempDir()
	fd, err := db.Open(freshDir, o)
	if err != nil {
		b.Fatal(err)
	}
	fps, err := Open(ctx, fd, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, pd := range final {
		if err := fps.SetPeer(pd, BookAddrs); err != nil {
			b.Fatal(err)
		}
	}
	if err := fps.Close(); err != nil {
		b.Fatal(err)
	}
	if err := fd.Close(); err != nil {
		b.Fatal(err)
	}
	fresh, freshSST, freshAlloc := dirSize(b, freshDir)

	t0 := time.Now()
	d, err = db.Open(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	ps, err = Open(ctx, d, nil)
	if err != nil {
		b.Fatal(err)
	}
	open := time.Since(t0)
	back := ps.ListPeers(BookAddrs)
	if len(back) != nPeers {
		b.Fatalf("reopened with %d peers, want %d", len(back), nPeers)
	}
	for i, pd := range back { // the state came back, not just the peers
		if !sameEntries(pd.Addrs, final[i].Addrs) {
			b.Fatalf("reopened %s with %v, want %v", pd.ID, pd.Addrs, final[i].Addrs)
		}
	}
	ps.Close()
	d.Close()
	b.ReportMetric(float64(churned)/1e6, "disk-MB")
	b.ReportMetric(float64(fresh)/1e6, "fresh-MB")
	b.ReportMetric(float64(churned)/float64(fresh), "ratio")
	b.ReportMetric(float64(churnedSST)/1e6, "sst-MB")
	b.ReportMetric(float64(freshSST)/1e6, "fresh-sst-MB")
	b.ReportMetric(float64(churnedSST)/float64(freshSST), "sst-ratio")
	b.ReportMetric(float64(churnedAlloc)/1e6, "alloc-MB")
	b.ReportMetric(float64(churnedAlloc)/float64(freshAlloc), "alloc-ratio")
	b.ReportMetric(float64(open.Microseconds())/1e3, "open-ms")
}

// dirSize returns the bytes of the regular files under dir, of its
// tables (.sst) alone, and the bytes allocated to the files on disk.
func dirSize(tb testing.TB, dir string) (n, sst, alloc int64) {
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				alloc += st.Blocks * 512
			}
			if filepath.Ext(path) == ".sst" {
				sst += info.Size()
			}
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n, sst, alloc
}

// sameEntries reports whether a and b hold the same addresses, in order.
func sameEntries(a, b []AddrEntry) bool {
	return slices.EqualFunc(a, b, func(x, y AddrEntry) bool { return x.Addr.Equal(y.Addr) })
}
