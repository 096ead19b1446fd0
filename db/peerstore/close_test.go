package peerstore

import (
	"runtime"
	"slices"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
)

// TestCloseBacklogPersists: Close with thousands of dirty peers (the
// flusher held off, so Close captures and encodes them in several shares
// at once) journals every one: reopened, each peer has its own
// addresses, key, protocols and metadata.
func TestCloseBacklogPersists(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(maxFlushParts)) // every share, even on a small machine
	const n = 5000
	peers := fakePeers(t, n)
	dir := t.TempDir()
	d := openDB(t, dir)
	ps := openPS(t, d, &Options{FlushDelay: time.Hour, FlushChanges: 1 << 30})
	fill(ps, peers)
	for i, p := range peers {
		ps.Put(p.id, "n", i)
	}
	if got := ps.Metrics().PendingChanges; got < n {
		t.Fatalf("%d peers dirty, want %d", got, n)
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	d.Close()

	d = openDB(t, dir)
	defer d.Close()
	ps = openPS(t, d, &Options{ExactReopen: true})
	for i, p := range peers {
		got := ps.Addrs(p.id)
		if !sameAddrSet(got, p.addrs) {
			t.Fatalf("peer %d: addresses %v, want %v", i, got, p.addrs)
		}
		if pk := ps.PubKey(p.id); pk == nil || !pk.Equals(p.pk) {
			t.Fatalf("peer %d: key %v, want %v", i, pk, p.pk)
		}
		if protos, _ := ps.GetProtocols(p.id); len(protos) != len(p.protos) {
			t.Fatalf("peer %d: protocols %v, want %v", i, protos, p.protos)
		}
		if v, err := ps.Get(p.id, "n"); err != nil || v != i {
			t.Fatalf("peer %d: metadata n = %v (%v), want %d", i, v, err, i)
		}
	}
}

func sameAddrSet(a, b []ma.Multiaddr) bool {
	key := func(as []ma.Multiaddr) []string {
		s := make([]string, len(as))
		for i, x := range as {
			s[i] = x.String()
		}
		slices.Sort(s)
		return s
	}
	return slices.Equal(key(a), key(b))
}
