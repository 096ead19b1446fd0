package peerstore

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	mockclock "github.com/benbjohnson/clock"
	"github.com/folio-p2p/folio/db"
	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
	pt "github.com/libp2p/go-libp2p/p2p/host/peerstore/test"
	ma "github.com/multiformats/go-multiaddr"
)

// go-libp2p's own peerstore suites, on a real Pebble DB on disk: once on a
// peerstore as is, and once through reopening, which closes the peerstore
// and folds the journal again before every read that follows a write.

func TestLibp2pPeerstoreSuite(t *testing.T) {
	pt.TestPeerstore(t, func() (pstore.Peerstore, func()) {
		ps, _ := newPS(t, nil)
		return ps, func() { ps.Close() }
	})
}

func TestLibp2pPeerstoreSuiteReopened(t *testing.T) {
	checkReopened(t, 10, func() {
		pt.TestPeerstore(t, func() (pstore.Peerstore, func()) {
			r := newReopening(t, nil)
			return r, r.close
		})
	})
}

func TestLibp2pAddrBookSuite(t *testing.T) {
	clk := mockclock.NewMock()
	// As pstoremem's own run: the suite stores more addresses per peer
	// than the default cap, so the cap is off.
	pt.TestAddrBook(t, func() (pstore.AddrBook, func()) {
		ps, _ := newPS(t, &Options{Clock: clk, MaxAddrsPerPeer: -1})
		return ps, func() { ps.Close() }
	}, clk)
}

func TestLibp2pAddrBookSuiteReopened(t *testing.T) {
	clk := mockclock.NewMock()
	checkReopened(t, 50, func() {
		pt.TestAddrBook(t, func() (pstore.AddrBook, func()) {
			r := newReopening(t, &Options{Clock: clk, MaxAddrsPerPeer: -1})
			return r, r.close
		}, clk)
	})
}

func TestLibp2pKeyBookSuite(t *testing.T) {
	pt.TestKeyBook(t, func() (pstore.KeyBook, func()) {
		ps, _ := newPS(t, nil)
		return ps, func() { ps.Close() }
	})
}

func TestLibp2pKeyBookSuiteReopened(t *testing.T) {
	checkReopened(t, 10, func() {
		pt.TestKeyBook(t, func() (pstore.KeyBook, func()) {
			r := newReopening(t, nil)
			return r, r.close
		})
	})
}

func TestLibp2pProtoStoreLimits(t *testing.T) {
	ps, _ := newPS(t, &Options{MaxProtocols: 10})
	pt.TestPeerstoreProtoStoreLimits(t, ps, 10)
}

func TestLibp2pProtoStoreLimitsReopened(t *testing.T) {
	r := newReopening(t, &Options{MaxProtocols: 10})
	defer r.close()
	checkReopened(t, 3, func() { pt.TestPeerstoreProtoStoreLimits(t, r, 10) })
}

// reopening is a Peerstore that closes and reopens itself (folding the
// journal) before the first read after a write, so that every read the
// suites check is served by a rebuilt projection. Private keys are kept in
// memory only by design; like a host on restart, it adds them again after
// each reopen. Once an AddrStream is open (it cannot outlive its
// peerstore) it stops reopening.
type reopening struct {
	*Peerstore
	t      testing.TB
	d      *db.DB
	o      *Options
	stale  bool
	pinned bool
	sks    map[peer.ID]ic.PrivKey
}

func newReopening(t testing.TB, o *Options) *reopening {
	if o == nil {
		o = &Options{}
	}
	o.ExactReopen = true // the suites' TTLs run across the hidden reopens
	d := openDB(t, "")
	t.Cleanup(func() { d.Close() })
	ps, err := Open(context.Background(), d, o)
	if err != nil {
		t.Fatal(err)
	}
	return &reopening{Peerstore: ps, t: t, d: d, o: o, sks: make(map[peer.ID]ic.PrivKey)}
}

func (r *reopening) close() { r.Peerstore.Close() }

// fresh reopens the peerstore if it was written since the last reopen.
func (r *reopening) fresh() {
	if !r.stale || r.pinned {
		return
	}
	r.stale = false
	if err := r.Peerstore.Close(); err != nil {
		r.t.Fatalf("close: %v", err)
	}
	ps, err := Open(context.Background(), r.d, r.o)
	if err != nil {
		r.t.Fatalf("reopen: %v", err)
	}
	for p, sk := range r.sks {
		if err := ps.AddPrivKey(p, sk); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Peerstore = ps
	reopens.Add(1)
}

// reopens counts the reopenings, so that the suites can check they did.
var reopens atomic.Int64

// checkReopened fails unless at least n reopenings happened during f.
func checkReopened(t *testing.T, n int64, f func()) {
	before := reopens.Load()
	f()
	if got := reopens.Load() - before; got < n {
		t.Fatalf("the suite reopened the peerstore %d times, want at least %d", got, n)
	} else {
		t.Logf("reopened %d times", got)
	}
}

func (r *reopening) wrote() { r.stale = true }

// Reads.
func (r *reopening) Addrs(p peer.ID) []ma.Multiaddr { r.fresh(); return r.Peerstore.Addrs(p) }
func (r *reopening) PeersWithAddrs() peer.IDSlice   { r.fresh(); return r.Peerstore.PeersWithAddrs() }
func (r *reopening) Peers() peer.IDSlice            { r.fresh(); return r.Peerstore.Peers() }
func (r *reopening) PeerInfo(p peer.ID) peer.AddrInfo {
	r.fresh()
	return r.Peerstore.PeerInfo(p)
}
func (r *reopening) GetPeerRecord(p peer.ID) *record.Envelope {
	r.fresh()
	return r.Peerstore.GetPeerRecord(p)
}
func (r *reopening) PubKey(p peer.ID) ic.PubKey   { r.fresh(); return r.Peerstore.PubKey(p) }
func (r *reopening) PrivKey(p peer.ID) ic.PrivKey { r.fresh(); return r.Peerstore.PrivKey(p) }
func (r *reopening) PeersWithKeys() peer.IDSlice  { r.fresh(); return r.Peerstore.PeersWithKeys() }
func (r *reopening) GetProtocols(p peer.ID) ([]protocol.ID, error) {
	r.fresh()
	return r.Peerstore.GetProtocols(p)
}
func (r *reopening) SupportsProtocols(p peer.ID, protos ...protocol.ID) ([]protocol.ID, error) {
	r.fresh()
	return r.Peerstore.SupportsProtocols(p, protos...)
}
func (r *reopening) FirstSupportedProtocol(p peer.ID, protos ...protocol.ID) (protocol.ID, error) {
	r.fresh()
	return r.Peerstore.FirstSupportedProtocol(p, protos...)
}
func (r *reopening) Get(p peer.ID, key string) (any, error) {
	r.fresh()
	return r.Peerstore.Get(p, key)
}
func (r *reopening) AddrStream(ctx context.Context, p peer.ID) <-chan ma.Multiaddr {
	r.fresh()
	r.pinned = true
	return r.Peerstore.AddrStream(ctx, p)
}

// Writes.
func (r *reopening) AddAddr(p peer.ID, a ma.Multiaddr, ttl time.Duration) {
	r.AddAddrs(p, []ma.Multiaddr{a}, ttl)
}
func (r *reopening) AddAddrs(p peer.ID, a []ma.Multiaddr, ttl time.Duration) {
	r.fresh()
	r.Peerstore.AddAddrs(p, a, ttl)
	r.wrote()
}
func (r *reopening) SetAddr(p peer.ID, a ma.Multiaddr, ttl time.Duration) {
	r.SetAddrs(p, []ma.Multiaddr{a}, ttl)
}
func (r *reopening) SetAddrs(p peer.ID, a []ma.Multiaddr, ttl time.Duration) {
	r.fresh()
	r.Peerstore.SetAddrs(p, a, ttl)
	r.wrote()
}
func (r *reopening) UpdateAddrs(p peer.ID, oldTTL, newTTL time.Duration) {
	r.fresh()
	r.Peerstore.UpdateAddrs(p, oldTTL, newTTL)
	r.wrote()
}
func (r *reopening) ClearAddrs(p peer.ID) { r.fresh(); r.Peerstore.ClearAddrs(p); r.wrote() }
func (r *reopening) ConsumePeerRecord(env *record.Envelope, ttl time.Duration) (bool, error) {
	r.fresh()
	defer r.wrote()
	return r.Peerstore.ConsumePeerRecord(env, ttl)
}
func (r *reopening) AddPubKey(p peer.ID, pk ic.PubKey) error {
	r.fresh()
	defer r.wrote()
	return r.Peerstore.AddPubKey(p, pk)
}
func (r *reopening) AddPrivKey(p peer.ID, sk ic.PrivKey) error {
	r.fresh()
	defer r.wrote()
	err := r.Peerstore.AddPrivKey(p, sk)
	if err == nil {
		r.sks[p] = sk
	}
	return err
}
func (r *reopening) AddProtocols(p peer.ID, protos ...protocol.ID) error {
	r.fresh()
	defer r.wrote()
	return r.Peerstore.AddProtocols(p, protos...)
}
func (r *reopening) SetProtocols(p peer.ID, protos ...protocol.ID) error {
	r.fresh()
	defer r.wrote()
	return r.Peerstore.SetProtocols(p, protos...)
}
func (r *reopening) RemoveProtocols(p peer.ID, protos ...protocol.ID) error {
	r.fresh()
	defer r.wrote()
	return r.Peerstore.RemoveProtocols(p, protos...)
}
func (r *reopening) Put(p peer.ID, key string, v any) error {
	r.fresh()
	defer r.wrote()
	return r.Peerstore.Put(p, key, v)
}

// RemovePeer: the suites know nothing of restarts, so a removal must
// outlast the reopens this wrapper hides; it erases what RemovePeer would
// leave dormant (TestRemovePeerDormant tests that).
func (r *reopening) RemovePeer(p peer.ID) {
	r.fresh()
	r.Peerstore.RemovePeer(p)
	r.Peerstore.DeletePeer(p, BookPubKey|BookProtocols|BookMetadata)
	delete(r.sks, p)
	r.wrote()
}
