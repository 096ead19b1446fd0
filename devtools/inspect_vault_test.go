package devtools

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	ic "github.com/libp2p/go-libp2p/core/crypto"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/db/peerstore"
	pspb "github.com/folio-p2p/folio/db/peerstore/pb"
	peerpb "github.com/folio-p2p/folio/peer/pb"
	vaultpb "github.com/folio-p2p/folio/vault/pb"
)

// The golden tests inspect a vault built here, byte for byte the same on
// every run: the DB's primary key is fixed (written before db.Open, in the
// layout db/keys.go documents), so every book key, discovery key and
// signature is too; identities come from fixed seeds and every page's
// time is fixed. It is Ana's vault, in a task with Bob:
//
//	profile            Ana's profile, 2 pages
//	notes              7 raw pages (hex), written in 2 appends
//	empty              a book never written
//	private/peerstore  a peerstore journal: Bob, Carol, Bob again
//	private/messenger  the messenger's journal: task, invite, member, read
//	ana-bob-task       Ana's pair book for Bob: address and 4 envelopes
//	bob-ana-task       Bob's book for Ana (10 pages), read-only: pages 0
//	                   and 3 held, so parts of its tree are missing

// testTime is the wall clock of every page written.
var testTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// testTask is the task of the pair books.
var testTask = [16]byte{0x7a, 0x5c, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e}

// testVault is what buildTestVault wrote.
type testVault struct {
	dir           string
	ana, bob, car libp2ppeer.ID
	bobKey        ic.PubKey
	bobBook       ed25519.PublicKey // Bob's book for Ana (read-only here)
	titles        map[string]string // "ana-bob", "bob-ana": full titles
}

// testIdentity returns a fixed libp2p identity.
func testIdentity(t testing.TB, seed byte) (libp2ppeer.ID, ic.PubKey) {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	sk, err := ic.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(s))
	if err != nil {
		t.Fatal(err)
	}
	id, err := libp2ppeer.IDFromPrivateKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	return id, sk.GetPublic()
}

// seededDB opens a DB in dir whose primary key is 32 times seed.
func seededDB(t testing.TB, dir string, seed byte) *db.DB {
	t.Helper()
	pdb, err := pebble.Open(dir, &pebble.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	primary := make([]byte, 32)
	for i := range primary {
		primary[i] = seed
	}
	b := pdb.NewBatch()
	_ = b.Set([]byte("\x00primary"), primary, nil)
	_ = b.Set([]byte("\x00next"), binary.LittleEndian.AppendUint32(nil, 1), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := pdb.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(dir, &db.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func appendPages(t testing.TB, d *db.DB, name string, pages ...[]byte) *book.Book {
	t.Helper()
	b, err := d.Book(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) > 0 {
		if _, err := b.Append(context.Background(), pages...); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func addr(t testing.TB, s string) []byte {
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a.Bytes()
}

// buildTestVault writes the vault described above into dir.
func buildTestVault(t testing.TB, dir string) *testVault {
	t.Helper()
	v := &testVault{dir: dir, titles: map[string]string{}}
	v.ana, _ = testIdentity(t, 0xa1)
	v.bob, v.bobKey = testIdentity(t, 0xb2)
	v.car, _ = testIdentity(t, 0xc3)
	d := seededDB(t, filepath.Join(dir, "db"), 1)
	defer d.Close()
	ms := testTime.UnixMilli()

	appendPages(t, d, profileBookName, mustMarshal(t, &vaultpb.Profile{PeerId: []byte(v.ana), Name: "Ana",
		Addrs: [][]byte{addr(t, "/ip4/127.0.0.1/tcp/4001")}, Time: ms}))
	appendPages(t, d, profileBookName, mustMarshal(t, &vaultpb.Profile{PeerId: []byte(v.ana), Name: "Ana", Status: "planning a trip",
		Addrs: [][]byte{addr(t, "/ip4/127.0.0.1/tcp/4001")}, Time: ms + 60000}))

	notes := appendPages(t, d, "notes", []byte("note 0"), []byte("note 1"), []byte("note 2"), []byte("note 3"))
	big := make([]byte, 100)
	for i := range big {
		big[i] = byte(i)
	}
	if _, err := notes.Append(context.Background(), []byte("note 4"), []byte{}, big); err != nil {
		t.Fatal(err)
	}
	appendPages(t, d, "empty")

	v.writePeerstore(t, d)
	v.writePairBooks(t, d, filepath.Join(dir, "bob-db"))
	v.writeMessenger(t, d)
	return v
}

// writePeerstore writes a peerstore journal, as db/peerstore would.
func (v *testVault) writePeerstore(t testing.TB, d *db.DB) {
	t.Helper()
	exp := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	bobKey, err := ic.MarshalPublicKey(v.bobKey)
	if err != nil {
		t.Fatal(err)
	}
	protos := mustMarshal(t, &pspb.StringList{Values: []string{"/folio/replicate/1.0.0", "/ipfs/id/1.0.0"}})
	meta := mustMarshal(t, &pspb.MetaList{Entries: []*pspb.Meta{
		{Key: "AgentVersion", Value: &pspb.Value{Kind: &pspb.Value_String_{String_: "folio/0.1"}}},
		{Key: "rtt", Value: &pspb.Value{Kind: &pspb.Value_Duration{Duration: int64(3 * time.Millisecond)}}},
	}})
	page := func(p *pspb.Peer) []byte {
		return mustMarshal(t, &pspb.Page{Version: 1, Time: testTime.UnixNano(), Body: &pspb.Page_Peer{Peer: p}})
	}
	all := uint32(peerstore.JournalAddrs | peerstore.JournalKey | peerstore.JournalProtos | peerstore.JournalMeta)
	appendPages(t, d, peerstoreBookName,
		page(&pspb.Peer{Id: []byte(v.bob), Books: all,
			Addrs: [][]byte{addr(t, "/ip4/127.0.0.1/tcp/4002")}, AddrTtls: []int64{int64(time.Hour)},
			AddrExpirySeconds: []int64{exp.Unix()}, AddrExpiryNanos: []int32{0},
			PublicKey: bobKey, Protocols: protos, Metadata: meta}),
		page(&pspb.Peer{Id: []byte(v.car), Books: peerstore.JournalAddrs,
			Addrs:             [][]byte{addr(t, "/ip4/127.0.0.1/tcp/4003"), addr(t, "/ip4/192.0.2.7/udp/4003/quic-v1")},
			AddrTtls:          []int64{int64(pstore.PermanentAddrTTL), int64(2 * time.Hour)},
			AddrExpirySeconds: []int64{exp.Unix(), exp.Unix()}, AddrExpiryNanos: []int32{0, 0}}))
	appendPages(t, d, peerstoreBookName,
		page(&pspb.Peer{Id: []byte(v.bob), Books: peerstore.JournalProtos,
			Protocols: mustMarshal(t, &pspb.StringList{Values: []string{"/folio/replicate/1.0.0", "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"}})}))
}

// envelope encodes a pair book page.
func envelope(t testing.TB, author libp2ppeer.ID, index, clock uint64, typ peerpb.Type, data []byte, refs ...*peerpb.Ref) []byte {
	return mustMarshal(t, &peerpb.Envelope{
		Head: &peerpb.Head{Author: []byte(author), Index: index}, Refs: refs, Type: typ, Data: data,
		Meta: &peerpb.Meta{Time: testTime.UnixMilli() + int64(clock)*1000, Clock: clock, Task: testTask[:]},
	})
}

func ref(kind peerpb.RefKind, author libp2ppeer.ID, index uint64) *peerpb.Ref {
	return &peerpb.Ref{Kind: kind, Head: &peerpb.Head{Author: []byte(author), Index: index}}
}

// writePairBooks writes Ana's book for Bob here, and Bob's book for Ana
// in Bob's own DB (in bobDir), of which Ana's vault holds pages 0 and 3.
func (v *testVault) writePairBooks(t testing.TB, d *db.DB, bobDir string) {
	t.Helper()
	ctx := context.Background()
	title := func(a, r libp2ppeer.ID) string { return (&pairTitle{Author: a, Reader: r, Task: testTask}).String() }
	v.titles["ana-bob"], v.titles["bob-ana"] = title(v.ana, v.bob), title(v.bob, v.ana)
	update := mustMarshal(t, &peerpb.TaskUpdate{Task: testTask[:], Title: "Plan the trip"})
	join := mustMarshal(t, &peerpb.Join{PeerId: []byte(v.bob), Addrs: [][]byte{addr(t, "/ip4/127.0.0.1/tcp/4002")}, Inviter: []byte(v.ana)})
	appendPages(t, d, v.titles["ana-bob"],
		mustMarshal(t, &peerpb.Address{Author: []byte(v.ana), Reader: []byte(v.bob), Task: testTask[:],
			Addrs: [][]byte{addr(t, "/ip4/127.0.0.1/tcp/4001")}, Name: "Ana"}),
		envelope(t, v.ana, 1, 1, peerpb.Type_TYPE_TASK_UPDATE, update),
		envelope(t, v.ana, 2, 2, peerpb.Type_TYPE_JOIN, join),
		envelope(t, v.ana, 3, 3, peerpb.Type_TYPE_TEXT, []byte("Hi Bob! Train or car?")),
		envelope(t, v.ana, 4, 5, peerpb.Type_TYPE_REPLY, []byte("Train it is."), ref(peerpb.RefKind_REF_REPLY_TO, v.bob, 1), ref(peerpb.RefKind_REF_SEEN, v.bob, 2)))

	bd := seededDB(t, bobDir, 2)
	defer bd.Close()
	w := appendPages(t, bd, v.titles["bob-ana"],
		mustMarshal(t, &peerpb.Address{Author: []byte(v.bob), Reader: []byte(v.ana), Task: testTask[:],
			Addrs: [][]byte{addr(t, "/ip4/127.0.0.1/tcp/4002")}, Name: "Bob"}),
		envelope(t, v.bob, 1, 4, peerpb.Type_TYPE_TEXT, []byte("Train. I'll look at tickets."), ref(peerpb.RefKind_REF_SEEN, v.ana, 3)))
	if _, err := w.Append(ctx,
		envelope(t, v.bob, 2, 5, peerpb.Type_TYPE_REACTION, []byte("👍"), ref(peerpb.RefKind_REF_REACT_TO, v.ana, 3)),
		envelope(t, v.bob, 3, 6, peerpb.Type_TYPE_EDIT, []byte("Train. I'll book the tickets."), ref(peerpb.RefKind_REF_EDIT_OF, v.bob, 1)),
		envelope(t, v.bob, 4, 7, peerpb.Type_TYPE_TEXT, []byte("See you Friday!"))); err != nil {
		t.Fatal(err)
	}
	var more [][]byte
	for i := uint64(5); i < 10; i++ {
		more = append(more, envelope(t, v.bob, i, i+3, peerpb.Type_TYPE_TEXT, fmt.Appendf(nil, "message %d", i)))
	}
	if _, err := w.Append(ctx, more...); err != nil {
		t.Fatal(err)
	}
	v.bobBook = w.Key()
	r, err := d.OpenKey(ctx, w.Key())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint64{0, 3} {
		req := book.ProofRequest{Page: &book.PageRequest{Index: i}}
		if i == 0 {
			req.Upgrade = &book.UpgradeRequest{}
		} else {
			n, err := r.MissingNodes(i)
			if err != nil {
				t.Fatal(err)
			}
			req.Page.Nodes = n
		}
		p, err := w.Proof(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.ApplyProof(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
}

// writeMessenger writes the messenger's private journal.
func (v *testVault) writeMessenger(t testing.TB, d *db.DB) {
	t.Helper()
	secret := make([]byte, 32)
	appendPages(t, d, messengerBookName,
		mustMarshal(t, &peerpb.Record{Body: &peerpb.Record_Task{Task: &peerpb.TaskUpdate{Task: testTask[:], Title: "Plan the trip"}}}),
		mustMarshal(t, &peerpb.Record{Body: &peerpb.Record_Invite{Invite: &peerpb.InviteMade{Id: []byte{1, 2, 3, 4}, Task: testTask[:], Secret: secret, Expires: testTime.Add(7 * 24 * time.Hour).UnixMilli()}}}),
		mustMarshal(t, &peerpb.Record{Body: &peerpb.Record_InviteUsed{InviteUsed: []byte{1, 2, 3, 4}}}),
		mustMarshal(t, &peerpb.Record{Body: &peerpb.Record_Member{Member: &peerpb.Member{Task: testTask[:], PeerId: []byte(v.bob), Book: v.bobBook, Addrs: [][]byte{addr(t, "/ip4/127.0.0.1/tcp/4002")}}}}),
		mustMarshal(t, &peerpb.Record{Body: &peerpb.Record_Read{Read: &peerpb.ReadMarker{Task: testTask[:], Clock: 7, Author: []byte(v.bob), Index: 4}}}))
}
