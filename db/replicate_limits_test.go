package db

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
	"google.golang.org/protobuf/proto"
)

// What a hostile remote can make a session hold: its offers of books this
// DB does not hold, the channels it opens, the memory a message takes once
// parsed. The cases that end a session are in the malicious-peer table;
// these measure and check the bounds themselves.

// liveHeap returns the bytes of the Go heap still reachable.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// hostileOffers runs a session of d with a fake remote that offers n books
// d does not hold, each with a capability of capSize bytes, then the book
// known (a barrier: the session answers it after handling every offer
// before it). It returns the heap the session retained at that point and
// how the session ended once closed.
func hostileOffers(t *testing.T, d *DB, known ed25519.PublicKey, n, capSize int) (int64, error) {
	t.Helper()
	before := liveHeap()
	ca, cb := net.Pipe()
	s, err := d.Replicate(context.Background(), ca, ReplicateOptions{LocalID: []byte(readerID), RemoteID: []byte(fakeID)})
	if err != nil {
		t.Fatal(err)
	}
	f := newFakePeer(t, cb, true)
	c := make([]byte, capSize)
	for i := range uint32(n) {
		var dk [32]byte
		binary.BigEndian.PutUint32(dk[:], i+1)
		if f.send(&pb.Message{Body: &pb.Message_Open{Open: &pb.Open{Channel: i + 100, DiscoveryKey: dk[:], Capability: c}}}) != nil {
			break // the session ended
		}
	}
	if f.send(fakeOpen(known, fakeChan, capability(known, []byte(fakeID), []byte(readerID)))) == nil {
		dk := book.DiscoveryKey(known)
		for m := f.next(30 * time.Second); !bytes.Equal(m.GetOpen().GetDiscoveryKey(), dk[:]); m = f.next(30 * time.Second) {
			if m == nil {
				break // the session ended
			}
		}
	}
	retained := int64(liveHeap()) - int64(before)
	runtime.KeepAlive(s)
	runtime.KeepAlive(f)
	s.Close()
	return retained, s.Err()
}

// TestReplicateHostileOffersHeap: offers of books this DB does not hold
// keep only what pairing needs (discovery key, channel, 32-byte
// capability), and no more of them than MaxPendingOffers.
func TestReplicateHostileOffersHeap(t *testing.T) {
	d := openTest(t, t.TempDir(), &Options{NoSync: true})
	known := otherKey(9)
	if _, err := d.OpenKey(context.Background(), known); err != nil {
		t.Fatal(err)
	}
	// 300 offers with 1 MiB capabilities, under the default MaxMessageSize
	// (5 MiB): once, each was kept whole, 300 MiB for one session.
	retained, err := hostileOffers(t, d, known, 300, 1<<20)
	t.Logf("300 offers with 1 MiB capabilities: %d KiB retained, session: %v", retained>>10, err)
	if retained > 8<<20 {
		t.Errorf("the session retained %d MiB", retained>>20)
	}
	if !errors.Is(err, ErrProtocol) || !errors.Is(err, ErrLimit) {
		t.Errorf("the session ended with %v, want ErrProtocol and ErrLimit", err)
	}
	// As many well-formed offers as a session keeps: it goes on, and
	// keeps some 150 bytes an offer.
	base, _ := hostileOffers(t, d, known, 0, 32)
	n := defaultMaxPendingOffers
	retained, err = hostileOffers(t, d, known, n, 32)
	t.Logf("%d offers with 32-byte capabilities: %d KiB retained (a session without offers: %d KiB; %d bytes an offer), session: %v",
		n, retained>>10, base>>10, (retained-base)/int64(n), err)
	if retained > 2<<20 {
		t.Errorf("the session retained %d KiB for %d offers", retained>>10, n)
	}
	if err != nil {
		t.Errorf("the session ended with %v", err)
	}
	if infos, err := d.Books(); err != nil || len(infos) != 1 {
		t.Fatalf("the catalogue has %d books (%v), want 1", len(infos), err)
	}
}

// TestReplicateRemoteChannelLimit: the remote opens at most
// MaxRemoteChannels books this side did not offer; the ones offered here
// do not count.
func TestReplicateRemoteChannelLimit(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t.TempDir(), &Options{NoSync: true})
	var keys []ed25519.PublicKey
	for i := range byte(4) {
		k := otherKey(20 + i)
		if _, err := d.OpenKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	ca, cb := net.Pipe()
	var errs peerErrors
	s, err := d.Replicate(ctx, ca, ReplicateOptions{LocalID: []byte(readerID), RemoteID: []byte(fakeID),
		Books: keys[:1], MaxRemoteChannels: 2, Listener: errs.listener()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := newFakePeer(t, cb, true)
	for i, k := range keys {
		f.send(fakeOpen(k, uint32(i+1), capability(k, []byte(fakeID), []byte(readerID))))
		if i < 3 {
			scnWait(t, "the channel to open", func() bool { return errs.channels() == i+1 })
		}
	}
	waitDone(t, s, "remote over its channels")
	if err := s.Err(); !errors.Is(err, ErrProtocol) || !errors.Is(err, ErrLimit) {
		t.Fatalf("the session ended with %v, want ErrProtocol and ErrLimit", err)
	}
	if e := errs.all(); len(e) != 1 || !errors.Is(e[0], ErrLimit) {
		t.Fatalf("peer errors %v", e)
	}
}

// TestDecodeAllocatesLittle: a message whose repeated fields are many and
// empty (2 bytes each on the wire, some 100 once parsed) is refused
// before it is parsed.
func TestDecodeAllocatesLittle(t *testing.T) {
	const count = 1 << 19 // 1 MiB of empty entries
	nodes := func() []*pb.Node {
		ns := make([]*pb.Node, count)
		for i := range ns {
			ns[i] = &pb.Node{}
		}
		return ns
	}
	cases := map[string]*pb.Data{
		"range nodes":   {Range: &pb.RangeProof{Nodes: nodes()}},
		"range values":  {Range: &pb.RangeProof{Values: make([][]byte, count)}},
		"upgrade roots": {Upgrade: &pb.UpgradeProof{Roots: nodes()}},
		"upgrade nodes": {Upgrade: &pb.UpgradeProof{Nodes: nodes()}},
	}
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := proto.Marshal(&pb.Message{Body: &pb.Message_Data{Data: d}})
			if err != nil {
				t.Fatal(err)
			}
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, err = decodeMessage(b)
			runtime.ReadMemStats(&m1)
			alloc := m1.TotalAlloc - m0.TotalAlloc
			t.Logf("%d KiB message: %d KiB allocated, %v", len(b)>>10, alloc>>10, err)
			if !errors.Is(err, ErrProtocol) || !errors.Is(err, ErrLimit) {
				t.Errorf("decode: %v, want ErrProtocol and ErrLimit", err)
			}
			if alloc > 64<<10 {
				t.Errorf("decoding a %d KiB message allocated %d KiB", len(b)>>10, alloc>>10)
			}
		})
	}
}

// countingConn counts the bytes read from it.
type countingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestReplicateInboundBounded: while the session's loop is busy, the
// session reads no more than twice MaxMessageSize of the remote's messages
// ahead of it (once, 64 messages of up to MaxMessageSize each).
func TestReplicateInboundBounded(t *testing.T) {
	d := openTest(t, t.TempDir(), &Options{NoSync: true})
	ca, cb := net.Pipe()
	cc := &countingConn{Conn: ca}
	const max = 1 << 20
	s, err := d.Replicate(context.Background(), cc, ReplicateOptions{LocalID: []byte(readerID), RemoteID: []byte(fakeID), MaxMessageSize: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	release := make(chan struct{})
	if err := s.do(func() { <-release }); err != nil { // the loop is busy
		t.Fatal(err)
	}
	f := newFakePeer(t, cb, false)
	data := &pb.Message{Body: &pb.Message_Data{Data: &pb.Data{Channel: 9, Id: 1,
		Range: &pb.RangeProof{Values: [][]byte{make([]byte, max-64)}}}}}
	go func() {
		for range 100 {
			if f.send(data) != nil {
				return
			}
		}
	}()
	// Wait until the session stops reading (the fake blocks on the pipe).
	var read int64
	for {
		time.Sleep(100 * time.Millisecond)
		n := cc.n.Load()
		if n == read {
			break
		}
		read = n
	}
	t.Logf("read ahead of a busy loop: %d KiB (MaxMessageSize %d KiB)", read>>10, max>>10)
	// The budget, one message decoded and waiting for it, one being read
	// into the frame buffer, and the 64 KiB read buffer.
	if limit := int64(2*max + 2*max + 64<<10); read > limit {
		t.Errorf("the session read %d KiB ahead of its loop, limit %d KiB", read>>10, limit>>10)
	}
	close(release)
	waitDone(t, s, "data on an unopened channel")
	if !errors.Is(s.Err(), ErrProtocol) {
		t.Fatalf("the session ended with %v, want ErrProtocol", s.Err())
	}
}
