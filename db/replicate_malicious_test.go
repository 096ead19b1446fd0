package db

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Malicious peers: a fake peer in the test speaks the protocol by hand
// (frames of pb.Message) against a real reader DB, and misbehaves in one
// way per case. Each case checks that the reader's book is unchanged and
// audits clean, that the session ends with ErrProtocol and the peer is
// reported (or that the case is ignored, as specified), and that the
// reader still replicates the book from an honest peer afterwards.

const (
	fakeID   = "fake"
	readerID = "reader"
	fakeChan = 1 // the fake's channel number for the book
)

// fakePeer is the remote end of a session, written by hand.
type fakePeer struct {
	t    testing.TB
	conn net.Conn
	in   chan *pb.Message // what the session sends, until it ends
}

func newFakePeer(t testing.TB, conn net.Conn, read bool) *fakePeer {
	f := &fakePeer{t: t, conn: conn, in: make(chan *pb.Message, 1<<12)}
	if read {
		go func() {
			defer close(f.in)
			fr := newFrameReader(conn, 64<<20)
			for {
				m, _, err := fr.next() // (its buffer is never released: m keeps it)
				if err != nil {
					return
				}
				f.in <- m
			}
		}()
	}
	t.Cleanup(func() { conn.Close() })
	return f
}

// send writes m as one frame; the error is the stream's (the session may
// have ended already).
func (f *fakePeer) send(m *pb.Message) error {
	b, err := appendFrame(nil, m)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.raw(b)
}

func (f *fakePeer) raw(b []byte) error {
	_, err := f.conn.Write(b)
	return err
}

// next returns the session's next message, or nil when the session has
// ended or nothing came for a while.
func (f *fakePeer) next(wait time.Duration) *pb.Message {
	select {
	case m := <-f.in:
		return m
	case <-time.After(wait):
		return nil
	}
}

// request waits for the session's next request.
func (f *fakePeer) request() *pb.Request {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := f.next(10 * time.Second); m != nil {
			if r := m.GetRequest(); r != nil {
				return r
			}
		}
	}
	f.t.Fatal("the session sent no request")
	return nil
}

func fakeOpen(key ed25519.PublicKey, ch uint32, capability []byte) *pb.Message {
	dk := book.DiscoveryKey(key)
	return &pb.Message{Body: &pb.Message_Open{Open: &pb.Open{Channel: ch, DiscoveryKey: dk[:], Capability: capability}}}
}

func fakeSync(fork, length uint64) *pb.Message {
	return &pb.Message{Body: &pb.Message_Sync{Sync: &pb.Sync{Channel: fakeChan, Fork: fork, Length: length, Contiguous: length}}}
}

// malEnv is one case's world: an honest writer, a reader DB holding the
// first 10 of the writer's 20 pages, and the fake peer facing the reader.
type malEnv struct {
	t      *testing.T
	w      *book.Book // the honest writer, 20 pages
	wdb    *DB
	other  *book.Book // another book of the writer: another key
	proofs map[uint64]*book.Proof
	heads  map[uint64]*book.Head
	rdb    *DB
	r      *book.Book
	pre    *book.Head
	s      *Session // the reader's session with the fake
	errs   *peerErrors
	f      *fakePeer
}

// malWriter is shared by the cases: the writer never changes.
type malWriter struct {
	wdb    *DB
	w      *book.Book
	other  *book.Book
	proofs map[uint64]*book.Proof // full proofs (upgrade from 0 and every page) at lengths 5, 10, 15, 20
	heads  map[uint64]*book.Head
	link15 *book.Proof // from length 10 to 15, with pages [10, 15)
}

func newMalWriter(t testing.TB) *malWriter {
	ctx := context.Background()
	m := &malWriter{proofs: map[uint64]*book.Proof{}, heads: map[uint64]*book.Head{}}
	m.wdb = openTest(t, t.TempDir(), &Options{NoSync: true})
	var err error
	if m.w, err = m.wdb.Book(ctx, "honest"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint64{5, 10, 15, 20} {
		scnFill(t, m.w, "m", m.w.Length(), n, 5)
		if n == 15 {
			var err error
			if m.link15, err = m.w.Proof(book.ProofRequest{Range: &book.RangeRequest{Start: 10, End: 15}, Upgrade: &book.UpgradeRequest{Start: 10}}); err != nil {
				t.Fatal(err)
			}
		}
		p, err := m.w.Proof(book.ProofRequest{Range: &book.RangeRequest{Start: 0, End: n}, Upgrade: &book.UpgradeRequest{}})
		if err != nil {
			t.Fatal(err)
		}
		m.proofs[n] = p
		m.heads[n], _ = m.w.Head()
	}
	if m.other, err = m.wdb.Book(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	scnFill(t, m.other, "m", 0, 20, 5)
	return m
}

func (m *malWriter) env(t *testing.T, o ReplicateOptions) *malEnv {
	ctx := context.Background()
	e := &malEnv{t: t, w: m.w, wdb: m.wdb, other: m.other, proofs: m.proofs, heads: m.heads, errs: &peerErrors{}}
	e.rdb = openTest(t, t.TempDir(), &Options{NoSync: true})
	var err error
	if e.r, err = e.rdb.OpenKey(ctx, m.w.Key()); err != nil {
		t.Fatal(err)
	}
	if err := e.r.ApplyProof(ctx, m.proofs[10]); err != nil {
		t.Fatal(err)
	}
	e.pre, _ = e.r.Head()
	ca, cb := net.Pipe()
	o.LocalID, o.RemoteID, o.Listener = []byte(readerID), []byte(fakeID), e.errs.listener()
	if e.s, err = e.rdb.Replicate(ctx, ca, o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.s.Close() })
	e.f = newFakePeer(t, cb, true)
	return e
}

// open offers the book with a good capability.
func (e *malEnv) open() {
	e.f.send(fakeOpen(e.w.Key(), fakeChan, capability(e.w.Key(), []byte(fakeID), []byte(readerID))))
}

// handshake opens the channel, claims the writer's 20 pages and returns
// the reader's first request: the upgrade from 10 with pages [10, 20).
func (e *malEnv) handshake() *pb.Request {
	e.t.Helper()
	e.open()
	e.f.send(fakeSync(0, 20))
	r := e.f.request()
	if r.GetUpgrade().GetStart() != 10 || r.GetRange().GetStart() != 10 || r.GetRange().GetEnd() != 20 {
		e.t.Fatalf("unexpected first request %v", r)
	}
	return r
}

// proof builds the writer's honest answer to r (as Session.onRequest would).
func (e *malEnv) proof(b *book.Book, r *pb.Request) (*book.Proof, error) {
	var req book.ProofRequest
	if rr := r.GetRange(); rr != nil {
		req.Range = &book.RangeRequest{Start: rr.GetStart(), End: rr.GetEnd(), MaxBytes: 512 << 10}
	}
	if u := r.GetUpgrade(); u != nil {
		req.Upgrade = &book.UpgradeRequest{Start: u.GetStart()}
	}
	if r.GetFork() != b.Fork() {
		return nil, errors.New("fork")
	}
	return b.Proof(req)
}

// answer sends the honest answer to r after tamper changed it.
func (e *malEnv) answer(r *pb.Request, tamper func(d *pb.Data)) {
	e.t.Helper()
	p, err := e.proof(e.w, r)
	if err != nil {
		e.t.Fatal(err)
	}
	d := toPBData(fakeChan, r.GetId(), p)
	tamper(d)
	e.f.send(&pb.Message{Body: &pb.Message_Data{Data: d}})
}

// push claims the reader's 10 pages as the fake's length, then pushes the
// writer's head with pages [from, 20), linked from from, after tamper
// changed it.
func (e *malEnv) push(from uint64, tamper func(d *pb.Data)) {
	e.t.Helper()
	e.open()
	e.f.send(fakeSync(0, 10))
	p, err := e.w.Proof(book.ProofRequest{Range: &book.RangeRequest{Start: from, End: 20}, Upgrade: &book.UpgradeRequest{Start: from}})
	if err != nil {
		e.t.Fatal(err)
	}
	d := toPBData(fakeChan, pushID, p)
	tamper(d)
	e.f.send(&pb.Message{Body: &pb.Message_Data{Data: d}})
	e.f.send(fakeSync(0, 20))
}

// serve answers every request honestly until the reader holds the
// writer's 20 pages.
func (e *malEnv) serve() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, _ := e.r.Contiguous(0); c == 20 && e.r.Length() == 20 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the reader did not complete the book from the fake turned honest (length %d)", e.r.Length())
		}
		m := e.f.next(20 * time.Millisecond)
		if m == nil {
			continue
		}
		if o := m.GetOpen(); o != nil {
			if dk := e.w.DiscoveryKey(); !bytes.Equal(o.GetDiscoveryKey(), dk[:]) {
				e.t.Fatalf("the reader offered another book: %x", o.GetDiscoveryKey())
			}
		}
		r := m.GetRequest()
		if r == nil {
			continue
		}
		if p, err := e.proof(e.w, r); err != nil {
			e.f.send(&pb.Message{Body: &pb.Message_NoData{NoData: &pb.NoData{Channel: fakeChan, Id: r.GetId()}}})
		} else {
			e.f.send(&pb.Message{Body: &pb.Message_Data{Data: toPBData(fakeChan, r.GetId(), p)}})
		}
	}
}

// unchanged fails unless the reader's book is as before the case.
func (e *malEnv) unchanged() {
	e.t.Helper()
	h, _ := e.r.Head()
	if h.Fork != e.pre.Fork || h.Length != e.pre.Length || h.Signature != e.pre.Signature || e.r.Frozen() {
		e.t.Fatalf("the reader's head changed: fork %d length %d frozen %v", h.Fork, h.Length, e.r.Frozen())
	}
	spans, err := e.r.Spans(0, 10)
	if err != nil || len(spans) != 1 || spans[0] != (book.Span{Start: 0, Length: 10}) {
		e.t.Fatalf("the reader holds %v (%v), want [0, 10)", spans, err)
	}
	auditClean(e.t, e.r)
	if infos, err := e.rdb.Books(); err != nil || len(infos) != 1 {
		e.t.Fatalf("the reader's catalogue has %d books (%v), want 1", len(infos), err)
	}
}

// honestAfter replicates the book from the real writer over a new session.
func (e *malEnv) honestAfter() {
	e.t.Helper()
	keys := []ed25519.PublicKey{e.w.Key()}
	var errs peerErrors
	pipePair(e.t, e.wdb, e.rdb, "writer", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys, Listener: errs.listener()})
	waitPages(e.t, e.r, 20)
	scnSameBook(e.t, e.r, e.w)
	auditClean(e.t, e.r)
	if len(errs.all()) > 0 {
		e.t.Fatalf("peer errors from the honest writer: %v", errs.all())
	}
}

type malCase struct {
	name    string
	ignored bool  // the session goes on: the fake turns honest on it
	want    error // besides ErrProtocol, the sentinel the session ends with
	run     func(e *malEnv)
}

func malCases() []malCase {
	flip := func(b []byte) { b[len(b)/2] ^= 0x40 }
	tampered := func(name string, tamper func(e *malEnv, d *pb.Data)) malCase {
		return malCase{name: name, run: func(e *malEnv) {
			r := e.handshake()
			e.answer(r, func(d *pb.Data) { tamper(e, d) })
		}}
	}
	pushed := func(name string, from uint64, tamper func(d *pb.Data)) malCase {
		return malCase{name: name, run: func(e *malEnv) { e.push(from, tamper) }}
	}
	return []malCase{
		tampered("wrong page bytes", func(e *malEnv, d *pb.Data) {
			d.Range.Values[3] = []byte("a page the author never wrote")
		}),
		tampered("flipped bit in a page", func(e *malEnv, d *pb.Data) { flip(d.Range.Values[9]) }),
		tampered("wrong range proof node", func(e *malEnv, d *pb.Data) {
			if len(d.Range.Nodes) == 0 {
				e.t.Fatal("the range proof has no nodes")
			}
			flip(d.Range.Nodes[0].Hash)
		}),
		tampered("range proof node moved", func(e *malEnv, d *pb.Data) { d.Range.Nodes[0].Index += 2 }),
		tampered("range proof node dropped", func(e *malEnv, d *pb.Data) { d.Range.Nodes = d.Range.Nodes[1:] }),
		tampered("wrong upgrade link node", func(e *malEnv, d *pb.Data) {
			if len(d.Upgrade.Nodes) == 0 {
				e.t.Fatal("the upgrade has no link nodes")
			}
			flip(d.Upgrade.Nodes[0].Hash)
		}),
		tampered("wrong node size", func(e *malEnv, d *pb.Data) { d.Upgrade.Nodes[0].Size++ }),
		tampered("node hash of the wrong size", func(e *malEnv, d *pb.Data) { d.Range.Nodes[0].Hash = d.Range.Nodes[0].Hash[:31] }),
		tampered("wrong signed root", func(e *malEnv, d *pb.Data) { flip(d.Upgrade.Roots[0].Hash) }),
		tampered("forged signature", func(e *malEnv, d *pb.Data) { flip(d.Upgrade.Signature) }),
		tampered("signature of a short length", func(e *malEnv, d *pb.Data) { d.Upgrade.Signature = d.Upgrade.Signature[:63] }),
		tampered("replayed signature of an older head", func(e *malEnv, d *pb.Data) {
			sig := e.heads[10].Signature
			d.Upgrade.Signature = sig[:]
		}),
		tampered("head from another book", func(e *malEnv, d *pb.Data) {
			p, err := e.other.Proof(book.ProofRequest{Range: &book.RangeRequest{Start: 10, End: 20}, Upgrade: &book.UpgradeRequest{Start: 10}})
			if err != nil {
				e.t.Fatal(err)
			}
			o := toPBData(d.Channel, d.Id, p)
			d.Range, d.Upgrade = o.Range, o.Upgrade
		}),
		tampered("signed head of another fork", func(e *malEnv, d *pb.Data) { d.Fork = 1 }),
		tampered("answer for pages not asked for", func(e *malEnv, d *pb.Data) {
			p, err := e.w.Proof(book.ProofRequest{Range: &book.RangeRequest{Start: 12, End: 20}, Upgrade: &book.UpgradeRequest{Start: 10}})
			if err != nil {
				e.t.Fatal(err)
			}
			d.Range = toPBData(d.Channel, d.Id, p).Range
		}),
		tampered("answer that proves nothing", func(e *malEnv, d *pb.Data) { d.Range, d.Upgrade = nil, nil }),
		{name: "replayed older head, whole and valid", ignored: true, run: func(e *malEnv) {
			// A head the reader is past: stale, as from a slow honest
			// peer. Nothing is stored, nothing is punished; once the peer
			// says it has grown, the reader asks again.
			r := e.handshake()
			old := toPBData(fakeChan, r.GetId(), e.proofs[5])
			old.Range = nil
			e.f.send(&pb.Message{Body: &pb.Message_Data{Data: old}})
			time.Sleep(20 * time.Millisecond)
			e.unchanged()
			e.f.send(fakeSync(0, 20))
		}},
		{name: "length goes backwards without a new fork", run: func(e *malEnv) {
			e.handshake()
			e.f.send(fakeSync(0, 5))
		}},
		{name: "fork goes backwards", run: func(e *malEnv) {
			e.open()
			e.f.send(fakeSync(3, 20))
			e.f.request()
			e.f.send(fakeSync(2, 20))
		}},
		{name: "oversize message", want: ErrLimit, run: func(e *malEnv) {
			e.open()
			b := binary.AppendUvarint(nil, 1<<20+1) // over the reader's MaxMessageSize
			go e.f.raw(append(b, make([]byte, 1<<20+1)...))
		}},
		{name: "frame length past 64 bits", run: func(e *malEnv) {
			e.f.raw(bytes.Repeat([]byte{0xff}, 11))
		}},
		{name: "truncated message then close", run: func(e *malEnv) {
			r := e.handshake()
			p, _ := e.proof(e.w, r)
			frame, _ := appendFrame(nil, &pb.Message{Body: &pb.Message_Data{Data: toPBData(fakeChan, r.GetId(), p)}})
			e.f.raw(frame[:len(frame)/2])
			e.f.conn.Close()
		}},
		{name: "garbage bytes", run: func(e *malEnv) {
			rng := rand.New(rand.NewPCG(1, 2))
			junk := make([]byte, 4096)
			for i := range junk {
				junk[i] = byte(rng.UintN(256))
			}
			junk[0] = 0x7f // a small frame of junk
			e.open()
			go e.f.raw(junk)
		}},
		{name: "another protocol (HTTP)", run: func(e *malEnv) {
			go e.f.raw([]byte("GET / HTTP/1.1\r\nHost: folio.example\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"))
		}},
		{name: "empty message", run: func(e *malEnv) { e.f.raw([]byte{0}) }},
		{name: "unknown message kind", run: func(e *malEnv) {
			e.f.raw([]byte{3, 0x4a, 1, 0}) // field 9, a body no version knows
		}},
		{name: "capability for a book the reader does not know", ignored: true, run: func(e *malEnv) {
			unknown := otherKey(42)
			e.f.send(fakeOpen(unknown, 7, capability(unknown, []byte(fakeID), []byte(readerID))))
			r := e.handshake()
			e.answer(r, func(*pb.Data) {})
			if _, err := e.rdb.Info(unknown); !errors.Is(err, ErrNotFound) {
				e.t.Fatalf("a remote's offer created a book: %v", err)
			}
		}},
		{name: "bad capability for a known book (reflected)", run: func(e *malEnv) {
			// The reader's own capability, sent back: it proves nothing.
			e.f.send(fakeOpen(e.w.Key(), fakeChan, capability(e.w.Key(), []byte(readerID), []byte(fakeID))))
		}},
		{name: "capability from another session", run: func(e *malEnv) {
			e.f.send(fakeOpen(e.w.Key(), fakeChan, capability(e.w.Key(), []byte(fakeID), []byte("someone else"))))
		}},
		{name: "no capability", run: func(e *malEnv) { e.f.send(fakeOpen(e.w.Key(), fakeChan, nil)) }},
		{name: "malformed open", run: func(e *malEnv) {
			e.f.send(&pb.Message{Body: &pb.Message_Open{Open: &pb.Open{Channel: 3, DiscoveryKey: []byte("short")}}})
		}},
		{name: "channel opened twice", run: func(e *malEnv) {
			e.handshake()
			e.open()
		}},
		{name: "answer to a request never made", run: func(e *malEnv) {
			r := e.handshake()
			p, _ := e.proof(e.w, r)
			e.f.send(&pb.Message{Body: &pb.Message_Data{Data: toPBData(fakeChan, r.GetId()+1000, p)}})
		}},
		{name: "no-data for a request never made", run: func(e *malEnv) {
			e.handshake()
			e.f.send(&pb.Message{Body: &pb.Message_NoData{NoData: &pb.NoData{Channel: fakeChan, Id: 999}}})
		}},
		{name: "same answer twice", run: func(e *malEnv) {
			r := e.handshake()
			p, _ := e.proof(e.w, r)
			e.f.send(&pb.Message{Body: &pb.Message_NoData{NoData: &pb.NoData{Channel: fakeChan, Id: r.GetId()}}})
			e.f.send(&pb.Message{Body: &pb.Message_Data{Data: toPBData(fakeChan, r.GetId(), p)}})
		}},
		{name: "answer on an unopened channel", run: func(e *malEnv) {
			r := e.handshake()
			p, _ := e.proof(e.w, r)
			e.f.send(&pb.Message{Body: &pb.Message_Data{Data: toPBData(9, r.GetId(), p)}})
		}},
		{name: "request on an unopened channel", run: func(e *malEnv) {
			e.f.send(&pb.Message{Body: &pb.Message_Request{Request: &pb.Request{Channel: 9, Id: 1, Range: &pb.RangeRequest{Start: 0, End: 1}}}})
		}},
		{name: "oversized capability", want: ErrCapability, run: func(e *malEnv) {
			// For a book the reader does not hold: nothing to check it
			// against, but nothing longer than a capability is kept.
			unknown := otherKey(43)
			c := capability(unknown, []byte(fakeID), []byte(readerID))
			e.f.send(fakeOpen(unknown, 7, append(c, 0)))
		}},
		{name: "short capability", want: ErrCapability, run: func(e *malEnv) {
			unknown := otherKey(44)
			e.f.send(fakeOpen(unknown, 7, capability(unknown, []byte(fakeID), []byte(readerID))[:16]))
		}},
		{name: "too many unpaired offers", want: ErrLimit, run: func(e *malEnv) {
			for i := range uint32(defaultMaxPendingOffers + 1) {
				var dk [32]byte
				binary.BigEndian.PutUint32(dk[:], i+1)
				o := &pb.Open{Channel: i + 100, DiscoveryKey: dk[:], Capability: dk[:]}
				if e.f.send(&pb.Message{Body: &pb.Message_Open{Open: o}}) != nil {
					return // the session ended
				}
			}
		}},
		{name: "oversized message (an open padded past the control limit)", want: ErrLimit, run: func(e *malEnv) {
			// Well under MaxMessageSize, and valid but for an unknown field.
			open, err := proto.Marshal(fakeOpen(e.w.Key(), fakeChan, capability(e.w.Key(), []byte(fakeID), []byte(readerID))).GetOpen())
			if err != nil {
				e.t.Fatal(err)
			}
			open = protowire.AppendBytes(protowire.AppendTag(open, 15, protowire.BytesType), make([]byte, maxControlSize))
			msg := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), open)
			go e.f.raw(append(binary.AppendUvarint(nil, uint64(len(msg))), msg...))
		}},
		{name: "answer with a flood of empty proof nodes", want: ErrLimit, run: func(e *malEnv) {
			// 2 bytes a node on the wire, some 100 in memory once parsed.
			r := e.handshake()
			e.answer(r, func(d *pb.Data) {
				for range 10000 {
					d.Range.Nodes = append(d.Range.Nodes, &pb.Node{})
				}
			})
		}},
		{name: "same book opened on a second channel", run: func(e *malEnv) {
			e.handshake()
			e.f.send(fakeOpen(e.w.Key(), fakeChan+1, capability(e.w.Key(), []byte(fakeID), []byte(readerID))))
		}},
		pushed("pushed page with a flipped bit", 10, func(d *pb.Data) { flip(d.Range.Values[4]) }),
		pushed("pushed head with a forged signature", 10, func(d *pb.Data) { flip(d.Upgrade.Signature) }),
		pushed("push without its head", 10, func(d *pb.Data) { d.Upgrade = nil }),
		pushed("push of pages not from its head's start", 10, func(d *pb.Data) { d.Range.Start = 12 }),
		{name: "honest push", ignored: true, run: func(e *malEnv) { e.push(10, func(*pb.Data) {}) }},
		{name: "push from a length the reader is past", ignored: true, run: func(e *malEnv) {
			// As from an honest peer whose previous push the reader dropped.
			e.push(4, func(*pb.Data) {})
		}},
		{name: "oversized range request", run: func(e *malEnv) {
			e.handshake()
			e.f.send(&pb.Message{Body: &pb.Message_Request{Request: &pb.Request{Channel: fakeChan, Id: 1, Range: &pb.RangeRequest{Start: 0, End: 1 << 20}}}})
		}},
		{name: "empty range request", run: func(e *malEnv) {
			e.handshake()
			e.f.send(&pb.Message{Body: &pb.Message_Request{Request: &pb.Request{Channel: fakeChan, Id: 1, Range: &pb.RangeRequest{Start: 5, End: 5}}}})
		}},
	}
}

func TestReplicateMaliciousPeer(t *testing.T) {
	m := newMalWriter(t)
	for _, tc := range malCases() {
		t.Run(tc.name, func(t *testing.T) {
			e := m.env(t, ReplicateOptions{MaxMessageSize: 1 << 20})
			tc.run(e)
			if tc.ignored {
				e.serve()
				if err := e.s.Err(); err != nil {
					t.Fatalf("the session ended: %v", err)
				}
				if errs := e.errs.all(); len(errs) > 0 {
					t.Fatalf("peer reported for an ignored case: %v", errs)
				}
				scnSameBook(t, e.r, e.w)
				auditClean(t, e.r)
				return
			}
			waitDone(t, e.s, tc.name)
			want := func(err error) bool {
				return errors.Is(err, ErrProtocol) && (tc.want == nil || errors.Is(err, tc.want))
			}
			if err := e.s.Err(); !want(err) {
				t.Fatalf("the session ended with %v, want ErrProtocol (and %v)", err, tc.want)
			}
			errs := e.errs.all()
			if len(errs) != 1 || !want(errs[0]) {
				t.Fatalf("peer errors %v, want one matching ErrProtocol (and %v)", errs, tc.want)
			}
			t.Logf("%v", errs[0])
			e.unchanged()
			e.honestAfter()
		})
	}
}

// TestReplicateRequestFlood: a remote that asks and asks without reading
// the answers makes the writer queue more than MaxQueuedBytes; the writer
// ends that session, reports the peer, and goes on serving others.
func TestReplicateRequestFlood(t *testing.T) {
	ctx := context.Background()
	m := newMalWriter(t)
	wh, _ := m.w.Head()
	ca, cb := net.Pipe()
	var errs peerErrors
	s, err := m.wdb.Replicate(ctx, ca, ReplicateOptions{
		LocalID: []byte("writer"), RemoteID: []byte(fakeID), MaxQueuedBytes: 32 << 10, Listener: errs.listener(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := newFakePeer(t, cb, false) // never reads
	f.send(fakeOpen(m.w.Key(), fakeChan, capability(m.w.Key(), []byte(fakeID), []byte("writer"))))
	f.send(fakeSync(0, 0))
	// Meanwhile another reader of the same writer is served as usual.
	other := openTest(t, t.TempDir(), &Options{NoSync: true})
	r, err := other.OpenKey(ctx, m.w.Key())
	if err != nil {
		t.Fatal(err)
	}
	keys := []ed25519.PublicKey{m.w.Key()}
	pipePair(t, m.wdb, other, "writer", "other", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys})
	sent := 0
	for id := uint64(1); id <= 100000; id++ {
		req := &pb.Request{Channel: fakeChan, Id: id, Range: &pb.RangeRequest{Start: 0, End: 20}, Upgrade: &pb.UpgradeRequest{}}
		if f.send(&pb.Message{Body: &pb.Message_Request{Request: req}}) != nil {
			break
		}
		sent++
	}
	waitDone(t, s, "flooded writer")
	if err := s.Err(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("flooded session ended with %v, want ErrProtocol", err)
	}
	if e := errs.all(); len(e) != 1 || !errors.Is(e[0], ErrProtocol) {
		t.Fatalf("peer errors %v", e)
	}
	t.Logf("the writer ended the session after %d requests: %v", sent, s.Err())
	if h, _ := m.w.Head(); h.Signature != wh.Signature {
		t.Fatal("the writer's book changed")
	}
	auditClean(t, m.w)
	waitPages(t, r, 20)
	scnSameBook(t, r, m.w)

	// And the writer still serves a new reader afterwards.
	late := openTest(t, t.TempDir(), &Options{NoSync: true})
	lr, err := late.OpenKey(ctx, m.w.Key())
	if err != nil {
		t.Fatal(err)
	}
	pipePair(t, m.wdb, late, "writer", "late", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys})
	waitPages(t, lr, 20)
	scnSameBook(t, lr, m.w)
}

// cloneDB copies a closed DB's directory: the same primary key, so the
// same secret keys. Two devices restored from one backup are how an
// honest author comes to equivocate.
func cloneDB(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "clone")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestReplicateEquivocationAcrossPeers(t *testing.T) {
	for _, mode := range []string{"one after the other", "both at once"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			dir1 := t.TempDir()
			d, err := Open(dir1, &Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			w, err := d.Book(ctx, "log")
			if err != nil {
				t.Fatal(err)
			}
			scnFill(t, w, "shared", 0, 5, 5)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			dir2 := cloneDB(t, dir1)
			db1 := openTest(t, dir1, &Options{NoSync: true})
			db2 := openTest(t, dir2, &Options{NoSync: true})
			w1, err := db1.Book(ctx, "log")
			if err != nil {
				t.Fatal(err)
			}
			w2, err := db2.Book(ctx, "log")
			if err != nil {
				t.Fatal(err)
			}
			if !w1.Key().Equal(w2.Key()) || !w2.Writable() {
				t.Fatal("the clone does not hold the same secret")
			}
			// The same length and fork, two histories.
			scnFill(t, w1, "one", 5, 10, 5)
			scnFill(t, w2, "two", 5, 10, 5)
			h1, _ := w1.Head()
			h2, _ := w2.Head()
			if h1.Length != h2.Length || h1.Fork != h2.Fork || h1.TreeHash == h2.TreeHash {
				t.Fatal("the two writers did not diverge at the same length")
			}

			rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
			r, err := rdb.OpenKey(ctx, w1.Key())
			if err != nil {
				t.Fatal(err)
			}
			keys := []ed25519.PublicKey{w1.Key()}
			var errs1, errs2 peerErrors
			pipePair(t, db1, rdb, "w1", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys, Listener: errs1.listener()})
			if mode == "one after the other" {
				waitPages(t, r, 10)
				scnSameBook(t, r, w1)
			}
			_, s2 := pipePair(t, db2, rdb, "w2", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys, Listener: errs2.listener()})
			scnWait(t, "the reader to freeze the book", r.Frozen)

			ev, err := r.Evidence()
			if err != nil || len(ev) != 2 {
				t.Fatalf("evidence: %d heads, %v", len(ev), err)
			}
			got := map[[64]byte]bool{ev[0].Signature: true, ev[1].Signature: true}
			if !got[h1.Signature] || !got[h2.Signature] {
				t.Fatal("the evidence is not the two writers' heads")
			}
			for _, h := range ev {
				if err := h.Verify(w1.Key()); err != nil || h.Length != 10 || h.Fork != 0 {
					t.Fatalf("evidence head (length %d, fork %d): %v", h.Length, h.Fork, err)
				}
			}
			// The book froze inside the session's store; its PeerError
			// follows on the session's goroutine.
			scnWait(t, "the equivocation's PeerError", func() bool { return len(errs1.all())+len(errs2.all()) > 0 })
			var eq error
			for _, err := range append(errs1.all(), errs2.all()...) {
				if !errors.Is(err, book.ErrEquivocation) {
					t.Fatalf("peer error %v, want only equivocation", err)
				}
				eq = err
			}
			if eq == nil {
				t.Fatal("no PeerError reported the equivocation")
			}
			// The author's fault, not the peer's: the session goes on.
			select {
			case <-s2.Done():
				t.Fatalf("the session with the second writer ended: %v", s2.Err())
			default:
			}
			// A frozen book takes nothing more, from anyone.
			length := r.Length()
			scnFill(t, w1, "one", 10, 12, 1)
			time.Sleep(50 * time.Millisecond)
			if r.Length() != length || !r.Frozen() {
				t.Fatalf("the frozen book moved to length %d", r.Length())
			}
			auditClean(t, r)

			// It stays frozen, with its evidence, after a restart.
			rdir := rdb.dir
			if err := rdb.Close(); err != nil {
				t.Fatal(err)
			}
			rdb2 := openTest(t, rdir, nil)
			r2, err := rdb2.OpenKey(ctx, w1.Key())
			if err != nil {
				t.Fatal(err)
			}
			if ev2, err := r2.Evidence(); !r2.Frozen() || err != nil || len(ev2) != 2 {
				t.Fatalf("after a restart: frozen %v, %d heads of evidence, %v", r2.Frozen(), len(ev2), err)
			}
		})
	}
}

// Races between peers, made deterministic with a hand-written honest peer.

// TestReplicateAnswerFromBeforeWeGrew: the reader grows from elsewhere
// while its request to this peer is in flight, so the answer's head links
// from a length the reader has left. That is nobody's fault: the reader
// asks again, and completes from the same peer.
func TestReplicateAnswerFromBeforeWeGrew(t *testing.T) {
	m := newMalWriter(t)
	e := m.env(t, ReplicateOptions{})
	r := e.handshake() // upgrade from 10, pages [10, 20)
	if err := e.r.ApplyProof(context.Background(), m.link15); err != nil {
		t.Fatal(err)
	}
	if e.r.Length() != 15 {
		t.Fatalf("reader length %d, want 15", e.r.Length())
	}
	e.answer(r, func(*pb.Data) {}) // honest, but linked from 10
	e.serve()
	scnSameBook(t, e.r, e.w)
	if err := e.s.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
	if errs := e.errs.all(); len(errs) > 0 {
		t.Fatalf("an honest peer was reported: %v", errs)
	}
}

// TestReplicateNoFetchFromPeerBehind: a peer whose signed length is
// behind the reader's cannot prove pages up to the reader's head, so the
// reader asks it nothing until it catches up, and then fetches from it.
func TestReplicateNoFetchFromPeerBehind(t *testing.T) {
	m := newMalWriter(t)
	e := m.env(t, ReplicateOptions{})
	// The reader holds the head of length 20 but only pages [0, 10).
	up, err := m.w.Proof(book.ProofRequest{Upgrade: &book.UpgradeRequest{Start: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.r.ApplyProof(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	e.open()
	e.f.send(fakeSync(0, 15)) // holds pages [0, 15), signed length 15
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) {
		if msg := e.f.next(10 * time.Millisecond); msg.GetRequest() != nil {
			t.Fatalf("the reader asked a peer behind it: %v", msg.GetRequest())
		}
	}
	e.f.send(fakeSync(0, 20)) // caught up
	e.serve()
	scnSameBook(t, e.r, e.w)
	if errs := e.errs.all(); len(errs) > 0 || e.s.Err() != nil {
		t.Fatalf("peer errors %v, session %v", errs, e.s.Err())
	}
}

// TestReplicateAuthorNeverFetches: the author holds every page and takes
// no proofs, so it asks nothing of a remote, even one that claims a longer
// book (a clone of the author's device, say); it keeps answering it.
func TestReplicateAuthorNeverFetches(t *testing.T) {
	m := newMalWriter(t)
	ca, cb := net.Pipe()
	var errs peerErrors
	s, err := m.wdb.Replicate(context.Background(), ca, ReplicateOptions{
		LocalID: []byte("writer"), RemoteID: []byte(fakeID), Listener: errs.listener(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := newFakePeer(t, cb, true)
	f.send(fakeOpen(m.w.Key(), fakeChan, capability(m.w.Key(), []byte(fakeID), []byte("writer"))))
	f.send(&pb.Message{Body: &pb.Message_Sync{Sync: &pb.Sync{Channel: fakeChan, Length: 25, Contiguous: 25, Follow: true}}})
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) {
		if msg := f.next(10 * time.Millisecond); msg.GetRequest() != nil {
			t.Fatalf("the author asked a remote for pages: %v", msg.GetRequest())
		}
	}
	f.send(&pb.Message{Body: &pb.Message_Request{Request: &pb.Request{Channel: fakeChan, Id: 1,
		Range: &pb.RangeRequest{Start: 0, End: 20}, Upgrade: &pb.UpgradeRequest{}}}})
	for {
		msg := f.next(10 * time.Second)
		if msg == nil {
			t.Fatal("no answer from the author")
		}
		if d := msg.GetData(); d != nil {
			if d.GetId() != 1 || len(d.GetRange().GetValues()) != 20 {
				t.Fatalf("answer %v", d)
			}
			break
		}
	}
	if s.Err() != nil || len(errs.all()) > 0 {
		t.Fatalf("session %v, peer errors %v", s.Err(), errs.all())
	}
}
