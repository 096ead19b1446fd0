package peerstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	mockclock "github.com/benbjohnson/clock"
	"github.com/folio-p2p/folio/db"
	ic "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	ma "github.com/multiformats/go-multiaddr"
)

// The model test: random operations on this peerstore and on go-libp2p's
// pstoremem side by side, comparing everything observable after each
// step, across closes and reopens and checkpoints, with an Audit (a fold
// of the journal compared with the live state) at the end.

// world is the pool of values the random operations draw from.
type world struct {
	peers   []peer.ID
	keys    map[peer.ID]ic.PrivKey
	addrs   []ma.Multiaddr
	ttls    []time.Duration
	protos  []protocol.ID
	values  []any
	records []*record.Envelope
	single  bool // one address per call (with a per-peer cap: no ties in eviction)
	// dormant is what RemovePeer evicted from the model's books and folio
	// keeps for the next reopen (dormant.go), until a change replaces it.
	dormant map[peer.ID]*modelDormant
}

type modelDormant struct {
	pk     ic.PubKey
	protos []protocol.ID
	meta   map[string]any
}

func newWorld(t testing.TB, r *rand.Rand) *world {
	w := &world{keys: map[peer.ID]ic.PrivKey{}, dormant: map[peer.ID]*modelDormant{}}
	for i := range 4 {
		sk, _, err := ic.GenerateEd25519Key(nil)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := peer.IDFromPrivateKey(sk)
		w.peers = append(w.peers, p)
		w.keys[p] = sk
		w.peers = append(w.peers, peer.ID(fmt.Sprintf("plain-peer-%d", i)))
	}
	for i := range 10 {
		w.addrs = append(w.addrs, ma.StringCast(fmt.Sprintf("/ip4/10.0.0.%d/tcp/%d", i, 4000+i)))
	}
	w.addrs = append(w.addrs, ma.StringCast("/ip6/::1/udp/5/quic-v1"), ma.StringCast("/dns4/example.com/tcp/443/wss"))
	w.ttls = []time.Duration{-1, 0, time.Second, 10 * time.Second, time.Minute, time.Hour,
		pstore.RecentlyConnectedAddrTTL, pstore.PermanentAddrTTL, pstore.ConnectedAddrTTL}
	w.protos = []protocol.ID{"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/ipfs/kad/1.0.0", "/folio/replicate/1.0.0", "/x/a", "/x/b"}
	w.values = []any{"agent/1.0", "", 7, -3, true, false, []byte("raw"), []byte{}, time.Second, int64(1 << 40),
		uint64(9), 2.5, float32(1.5), uint8(200), []string{"a", "b"}, nil, int32(-5), uint32(6), uint(4)}
	for _, p := range w.peers {
		sk, ok := w.keys[p]
		if !ok {
			continue
		}
		for seq := uint64(1); seq <= 4; seq++ {
			rec := peer.NewPeerRecord()
			rec.PeerID, rec.Seq = p, seq
			for _, a := range w.addrs {
				if r.IntN(3) == 0 {
					rec.Addrs = append(rec.Addrs, a)
				}
			}
			env, err := record.Seal(rec, sk)
			if err != nil {
				t.Fatal(err)
			}
			w.records = append(w.records, env)
		}
	}
	return w
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func (w *world) someAddrs(r *rand.Rand) []ma.Multiaddr {
	if w.single {
		return []ma.Multiaddr{pick(r, w.addrs)}
	}
	var out []ma.Multiaddr
	for range r.IntN(4) + 1 {
		out = append(out, pick(r, w.addrs))
	}
	return out
}

func (w *world) someProtos(r *rand.Rand) []protocol.ID {
	var out []protocol.ID
	for range r.IntN(4) {
		out = append(out, pick(r, w.protos))
	}
	return out
}

// step applies one random operation to both stores; it returns its name.
// A change to a book of the model ends what it kept dormant of that book.
func (w *world) step(r *rand.Rand, clk *mockclock.Mock, ps, model pstore.Peerstore) string {
	p := pick(r, w.peers)
	before := w.books(model, p)
	defer func() { w.wake(p, before, w.books(model, p)) }()
	n := r.IntN(100)
	if w.single {
		clk.Add(time.Millisecond) // distinct expiries: eviction has no ties
		if n >= 32 && n < 38 || n >= 41 && n < 48 {
			n = 0 // UpdateAddrs and signed records give many addresses one expiry
		}
	}
	switch {
	case n < 20:
		as, ttl := w.someAddrs(r), pick(r, w.ttls)
		ps.AddAddrs(p, as, ttl)
		model.AddAddrs(p, as, ttl)
		return fmt.Sprintf("AddAddrs %s %v %v", p, as, ttl)
	case n < 32:
		as, ttl := w.someAddrs(r), pick(r, w.ttls)
		ps.SetAddrs(p, as, ttl)
		model.SetAddrs(p, as, ttl)
		return fmt.Sprintf("SetAddrs %s %v %v", p, as, ttl)
	case n < 38:
		o, nw := pick(r, w.ttls), pick(r, w.ttls)
		ps.UpdateAddrs(p, o, nw)
		model.UpdateAddrs(p, o, nw)
		return fmt.Sprintf("UpdateAddrs %s %v→%v", p, o, nw)
	case n < 41:
		ps.ClearAddrs(p)
		model.ClearAddrs(p)
		return "ClearAddrs " + string(p)
	case n < 48:
		env, ttl := pick(r, w.records), pick(r, w.ttls)
		ok1, err1 := ps.(pstore.CertifiedAddrBook).ConsumePeerRecord(env, ttl)
		ok2, err2 := model.(pstore.CertifiedAddrBook).ConsumePeerRecord(env, ttl)
		if ok1 != ok2 || (err1 == nil) != (err2 == nil) {
			panic(fmt.Sprintf("ConsumePeerRecord: folio %v %v, pstoremem %v %v", ok1, err1, ok2, err2))
		}
		return fmt.Sprintf("ConsumePeerRecord %v", ttl)
	case n < 53:
		if sk, ok := w.keys[p]; ok {
			e1, e2 := ps.AddPubKey(p, sk.GetPublic()), model.AddPubKey(p, sk.GetPublic())
			if (e1 == nil) != (e2 == nil) {
				panic(fmt.Sprintf("AddPubKey: %v vs %v", e1, e2))
			}
		}
		return "AddPubKey " + string(p)
	case n < 62:
		pr := w.someProtos(r)
		e1, e2 := ps.AddProtocols(p, pr...), model.AddProtocols(p, pr...)
		if (e1 == nil) != (e2 == nil) {
			panic(fmt.Sprintf("AddProtocols: %v vs %v", e1, e2))
		}
		return fmt.Sprintf("AddProtocols %s %v", p, pr)
	case n < 68:
		pr := w.someProtos(r)
		e1, e2 := ps.SetProtocols(p, pr...), model.SetProtocols(p, pr...)
		if (e1 == nil) != (e2 == nil) {
			panic(fmt.Sprintf("SetProtocols: %v vs %v", e1, e2))
		}
		return fmt.Sprintf("SetProtocols %s %v", p, pr)
	case n < 72:
		pr := w.someProtos(r)
		ps.RemoveProtocols(p, pr...)
		model.RemoveProtocols(p, pr...)
		return fmt.Sprintf("RemoveProtocols %s %v", p, pr)
	case n < 84:
		k, v := pick(r, modelKeys), pick(r, w.values)
		e1, e2 := ps.Put(p, k, v), model.Put(p, k, v)
		if e1 != nil || e2 != nil {
			panic(fmt.Sprintf("Put: %v vs %v", e1, e2))
		}
		return fmt.Sprintf("Put %s %s=%#v", p, k, v)
	case n < 87:
		w.evict(p, before)
		ps.RemovePeer(p)
		model.RemovePeer(p)
		before = w.books(model, p)
		return "RemovePeer " + string(p)
	case n < 90:
		_ = ps.PubKey(p) // extracting stores the key: a change
		_ = model.PubKey(p)
		return "PubKey " + string(p)
	default:
		d := time.Duration(r.Int64N(int64(3 * time.Minute)))
		clk.Add(d)
		return fmt.Sprintf("clock +%v", d)
	}
}

// compare fails unless both stores show the same state.
func (w *world) compare(t testing.TB, ps, model pstore.Peerstore, after string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("after %s: "+format, append([]any{after}, args...)...)
	}
	for _, p := range w.peers {
		if a, b := ps.Addrs(p), model.Addrs(p); !sameAddrs(a, b) {
			fail("Addrs(%s): folio %v, pstoremem %v", p, a, b)
		}
		r1 := ps.(pstore.CertifiedAddrBook).GetPeerRecord(p)
		r2 := model.(pstore.CertifiedAddrBook).GetPeerRecord(p)
		if (r1 == nil) != (r2 == nil) || r1 != nil && !r1.Equal(r2) {
			fail("GetPeerRecord(%s): folio %v, pstoremem %v", p, r1 != nil, r2 != nil)
		}
		p1, _ := ps.GetProtocols(p)
		p2, _ := model.GetProtocols(p)
		slices.Sort(p1)
		slices.Sort(p2)
		if !slices.Equal(p1, p2) {
			fail("GetProtocols(%s): folio %v, pstoremem %v", p, p1, p2)
		}
		for _, k := range []string{"AgentVersion", "ProtocolVersion", "x"} {
			v1, e1 := ps.Get(p, k)
			v2, e2 := model.Get(p, k)
			if !reflect.DeepEqual(v1, v2) || (e1 == nil) != (e2 == nil) {
				fail("Get(%s, %s): folio %#v %v, pstoremem %#v %v", p, k, v1, e1, v2, e2)
			}
		}
	}
	valid := func(s pstore.Peerstore, ids peer.IDSlice) []peer.ID {
		var out []peer.ID
		for _, p := range ids {
			if len(s.Addrs(p)) > 0 {
				out = append(out, p)
			}
		}
		slices.Sort(out)
		return out
	}
	if a, b := valid(ps, ps.PeersWithAddrs()), valid(model, model.PeersWithAddrs()); !slices.Equal(a, b) {
		fail("PeersWithAddrs: folio %v, pstoremem %v", a, b)
	}
	k1, k2 := ps.PeersWithKeys(), model.PeersWithKeys()
	slices.Sort(k1)
	slices.Sort(k2)
	if !slices.Equal(k1, k2) {
		fail("PeersWithKeys: folio %v, pstoremem %v", k1, k2)
	}
}

// modelBooks is what the model holds of a peer's key, protocol and
// metadata books.
type modelBooks struct {
	pk     ic.PubKey // stored, not extracted
	protos []protocol.ID
	meta   map[string]any
}

var modelKeys = []string{"AgentVersion", "ProtocolVersion", "x"}

func (w *world) books(model pstore.Peerstore, p peer.ID) modelBooks {
	var b modelBooks
	if slices.Contains(model.PeersWithKeys(), p) {
		b.pk = model.PubKey(p)
	}
	b.protos, _ = model.GetProtocols(p)
	slices.Sort(b.protos)
	for _, k := range modelKeys {
		if v, err := model.Get(p, k); err == nil {
			if b.meta == nil {
				b.meta = map[string]any{}
			}
			b.meta[k] = v
		}
	}
	return b
}

// evict records what RemovePeer is about to take (as tracker.evict).
func (w *world) evict(p peer.ID, b modelBooks) {
	d := w.dormant[p]
	if d == nil {
		d = &modelDormant{}
		w.dormant[p] = d
	}
	if b.pk != nil {
		d.pk = b.pk
	}
	if len(b.protos) > 0 {
		d.protos = b.protos
	}
	if len(b.meta) > 0 {
		d.meta = b.meta
	}
}

// wake ends the dormancy of the books an operation changed.
func (w *world) wake(p peer.ID, before, after modelBooks) {
	d := w.dormant[p]
	if d == nil {
		return
	}
	if (before.pk == nil) != (after.pk == nil) || before.pk != nil && !before.pk.Equals(after.pk) {
		d.pk = nil
	}
	if !slices.Equal(before.protos, after.protos) {
		d.protos = nil
	}
	if len(before.meta) != len(after.meta) {
		d.meta = nil
	}
	for k, v := range before.meta {
		if av, ok := after.meta[k]; !ok || !sameValue(v, av) {
			d.meta = nil
		}
	}
}

// revive does to the model what a reopen does to folio: the books
// RemovePeer evicted come back where nothing replaced them.
func (w *world) revive(model pstore.Peerstore) {
	for p, d := range w.dormant {
		if d.pk != nil {
			_ = model.AddPubKey(p, d.pk)
		}
		if len(d.protos) > 0 {
			_ = model.SetProtocols(p, d.protos...)
		}
		for k, v := range d.meta {
			_ = model.Put(p, k, v)
		}
	}
	clear(w.dormant)
}

// collect does to the model what a reopen does to folio: drop the
// expired addresses (and signed records left without addresses).
func (w *world) collect(model pstore.Peerstore) {
	w.revive(model)
	for _, p := range w.peers {
		valid := model.Addrs(p)
		for _, a := range w.addrs {
			if !slices.ContainsFunc(valid, a.Equal) {
				model.SetAddr(p, a, -1)
			}
		}
	}
}

func TestModelAgainstPstoremem(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"defaults", Options{}},
		{"small-batches", Options{FlushChanges: 3, CheckpointEvery: 20, FlushDelay: time.Millisecond}},
		{"no-clear", Options{FlushChanges: 5, CheckpointEvery: 30, NoClear: true}},
		{"per-peer-cap", Options{MaxAddrsPerPeer: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := testSeed(t, "FOLIO_PEERSTORE_SEED")
			r := rand.New(rand.NewPCG(seed, 1))
			runModel(t, r, tc.o, 1200)
		})
	}
}

func runModel(t *testing.T, r *rand.Rand, o Options, steps int) {
	clk0 := mockclock.NewMock()
	clk0.Set(time.Unix(1_700_000_000, 0))
	o.Clock = clk0
	o.ExactReopen = true // pstoremem never restarts: its TTLs run on
	ctx := context.Background()
	w := newWorld(t, r)
	mopts := []pstoremem.Option{pstoremem.WithClock(clk0)}
	if o.MaxAddrsPerPeer > 0 {
		w.single = true
		mopts = append(mopts, pstoremem.WithMaxAddressesPerPeer(o.MaxAddrsPerPeer))
	}
	clk := clk0
	dir := t.TempDir()
	d := openDB(t, dir)
	defer func() { d.Close() }()
	ps := openPS(t, d, &o)
	model, err := pstoremem.NewPeerstore(mopts...)
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()
	var last string
	for i := range steps {
		switch n := r.IntN(100); {
		case n < 2: // close the peerstore and the DB, reopen both
			if err := ps.Close(); err != nil {
				t.Fatal(err)
			}
			d.Close()
			d = openDB(t, dir)
			ps = openPS(t, d, &o)
			w.collect(model)
			last = "reopen"
		case n < 4:
			if err := ps.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			last = "checkpoint"
		default:
			last = w.step(r, clk, ps, model)
		}
		if os.Getenv("FOLIO_PEERSTORE_TRACE") != "" {
			t.Logf("step %d: %s", i, last)
		}
		w.compare(t, ps, model, fmt.Sprintf("step %d (%s)", i, last))
	}
	auditOK(t, ps)
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	ps = openPS(t, d, &o)
	w.collect(model)
	w.compare(t, ps, model, "final reopen")
	auditOK(t, ps)
	m := ps.Metrics()
	t.Logf("journal: %d pages, last checkpoint at %d, %d peers", m.JournalLength, m.LastCheckpoint, m.Peers)
}

// auditOK fails unless a fold of the journal equals the live state.
func auditOK(t testing.TB, ps *Peerstore) *AuditReport {
	t.Helper()
	rep, err := ps.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("audit (from page %d, %d pages): %d problems:\n%v", rep.FirstPage, rep.Pages, len(rep.Problems), rep.Problems)
	}
	return rep
}

var _ = db.Open
