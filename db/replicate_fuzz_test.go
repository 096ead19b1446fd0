package db

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
	"google.golang.org/protobuf/proto"
)

// Fuzzers of the replication wire: the message decoder alone, and fuzzed
// bytes from a fake remote into a real session of a real reader DB.
//
//	go test -run='^$' -fuzz=FuzzDecodeMessage -fuzztime=60s ./db
//	go test -run='^$' -fuzz=FuzzFrames -fuzztime=60s ./db

// fuzzSeedMessages is one message of each kind, with plausible fields.
func fuzzSeedMessages(tb testing.TB, m *malWriter) []*pb.Message {
	p, err := m.w.Proof(book.ProofRequest{Range: &book.RangeRequest{Start: 10, End: 20}, Upgrade: &book.UpgradeRequest{Start: 10}})
	if err != nil {
		tb.Fatal(err)
	}
	return []*pb.Message{
		fakeOpen(m.w.Key(), fakeChan, capability(m.w.Key(), []byte(fakeID), []byte(readerID))),
		{Body: &pb.Message_Close{Close: &pb.Close{Channel: fakeChan}}},
		fakeSync(0, 20),
		{Body: &pb.Message_Request{Request: &pb.Request{Channel: fakeChan, Id: 7, Range: &pb.RangeRequest{Start: 0, End: 5}, Upgrade: &pb.UpgradeRequest{Start: 3}}}},
		{Body: &pb.Message_Data{Data: toPBData(fakeChan, 1, p)}},
		{Body: &pb.Message_NoData{NoData: &pb.NoData{Channel: fakeChan, Id: 1}}},
		{Body: &pb.Message_Have{Have: &pb.Have{Channel: fakeChan, Spans: []*pb.Span{{Start: 3, Length: 4}}}}},
		{Body: &pb.Message_Cancel{Cancel: &pb.Cancel{Channel: fakeChan, Id: 1}}},
	}
}

func FuzzDecodeMessage(f *testing.F) {
	m := newMalWriter(f)
	for _, msg := range fuzzSeedMessages(f, m) {
		b, err := proto.Marshal(msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := decodeMessage(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) || msg != nil {
				t.Fatalf("decode error %v (message %v), want ErrProtocol and no message", err, msg)
			}
			return
		}
		if msg.Body == nil {
			t.Fatal("decoded a message without a body")
		}
		// What decodes encodes again, framed, and decodes the same.
		frame, err := appendFrame(nil, msg)
		if err != nil {
			t.Fatal(err)
		}
		again, _, err := newFrameReader(bytes.NewReader(frame), len(frame)).next()
		if err != nil || !proto.Equal(msg, again) {
			t.Fatalf("round trip: %v, %v != %v", err, again, msg)
		}
		// The conversion the session applies to answers never panics and
		// keeps only well-formed hashes and signatures.
		if d := msg.GetData(); d != nil {
			if p, err := fromPBData(d); err == nil {
				if p.Range == nil && p.Upgrade == nil {
					t.Fatal("a data message that proves nothing was accepted")
				}
			} else if !errors.Is(err, ErrProtocol) {
				t.Fatalf("fromPBData: %v, want ErrProtocol", err)
			}
		}
	})
}

// duplex is a stream whose two directions close apart, so a fake remote
// can end its side (the session reads EOF) while the session still writes.
type duplex struct {
	io.Reader
	io.Writer
	closeFn func()
}

func (d *duplex) Close() error { d.closeFn(); return nil }

// fuzzEnv is a reader DB holding 10 of an honest writer's 20 pages.
type fuzzEnv struct {
	m      *malWriter
	rdb    *DB
	r      *book.Book
	prefix []byte // the fake's Open and Sync(length 20)
}

func newFuzzEnv(tb testing.TB) *fuzzEnv {
	e := &fuzzEnv{m: newMalWriter(tb)}
	e.rdb = openTest(tb, tb.TempDir(), &Options{NoSync: true})
	e.reset(tb)
	var err error
	seeds := fuzzSeedMessages(tb, e.m)
	for _, msg := range seeds[:1] {
		if e.prefix, err = appendFrame(e.prefix, msg); err != nil {
			tb.Fatal(err)
		}
	}
	if e.prefix, err = appendFrame(e.prefix, fakeSync(0, 20)); err != nil {
		tb.Fatal(err)
	}
	return e
}

// reset gives the reader its 10 pages back if an input changed its book.
func (e *fuzzEnv) reset(tb testing.TB) {
	ctx := context.Background()
	if e.r != nil && !e.r.Closed() && !e.r.Frozen() && e.r.Fork() == 0 && e.r.Length() == 10 {
		if spans, err := e.r.Spans(0, 2); err == nil && len(spans) == 1 && spans[0] == (book.Span{Start: 0, Length: 10}) {
			return
		}
	}
	if e.r != nil {
		if err := e.rdb.DeleteBook(ctx, e.m.w.Key()); err != nil {
			tb.Fatal(err)
		}
	}
	var err error
	if e.r, err = e.rdb.OpenKey(ctx, e.m.w.Key()); err != nil {
		tb.Fatal(err)
	}
	if err := e.r.ApplyProof(ctx, e.m.proofs[10]); err != nil {
		tb.Fatal(err)
	}
}

// run feeds data (after the prefix when open) into a new session of the
// reader, ends the stream, and checks how the session ended and what the
// reader holds. It returns the session.
func (e *fuzzEnv) run(t *testing.T, open bool, data []byte) *Session {
	e.reset(t)
	inR, inW := io.Pipe()   // fake → session
	outR, outW := io.Pipe() // session → fake
	rw := &duplex{Reader: inR, Writer: outW, closeFn: func() { inR.Close(); outW.Close() }}
	s, err := e.rdb.Replicate(context.Background(), rw, ReplicateOptions{
		LocalID: []byte(readerID), RemoteID: []byte(fakeID), MaxMessageSize: 1 << 16,
	})
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, outR)
	if open {
		inW.Write(e.prefix)
	}
	inW.Write(data)
	inW.Close()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		s.Close()
		t.Fatal("the session did not end")
	}
	if err := s.Err(); err != nil && !errors.Is(err, ErrProtocol) {
		t.Fatalf("the session ended with %v, want nil or ErrProtocol", err)
	}
	// Whatever the input, the reader holds a prefix of the author's book:
	// one of the author's heads and only the author's pages.
	h, _ := e.r.Head()
	if want := e.m.heads[h.Length]; want == nil || want.Signature != h.Signature || h.Fork != 0 {
		t.Fatalf("the reader holds a head of length %d fork %d that the author did not sign", h.Length, h.Fork)
	}
	scnHeldMatch(t, e.r, e.m.w)
	auditClean(t, e.r)
	return s
}

// TestFramesThenEOF: a remote that answers and hangs up at once; the
// reader keeps what came before the end of the stream, which is a clean
// end. (The harness of FuzzFrames, with its honest seed.)
func TestFramesThenEOF(t *testing.T) {
	e := newFuzzEnv(t)
	honest := fuzzSeedMessages(t, e.m)[4]
	frame, err := appendFrame(nil, honest)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		s := e.run(t, true, frame)
		if err := s.Err(); err != nil {
			t.Fatalf("session: %v", err)
		}
		if c, _ := e.r.Contiguous(0); e.r.Length() != 20 || c != 20 {
			t.Fatalf("run %d: the reader has length %d and %d pages, want the 20 sent before the end", i, e.r.Length(), c)
		}
		scnSameBook(t, e.r, e.m.w)
	}
}

func FuzzFrames(f *testing.F) {
	e := newFuzzEnv(f)
	frames := func(msgs ...*pb.Message) []byte {
		var b []byte
		for _, m := range msgs {
			var err error
			if b, err = appendFrame(b, m); err != nil {
				f.Fatal(err)
			}
		}
		return b
	}
	seeds := fuzzSeedMessages(f, e.m)
	honest := seeds[4] // the answer to the reader's first request
	f.Add(true, []byte{})
	f.Add(true, frames(honest))
	f.Add(true, frames(seeds[5]))
	f.Add(true, frames(seeds[3], seeds[6], seeds[7], seeds[1]))
	f.Add(true, frames(fakeSync(0, 5)))
	f.Add(true, frames(seeds[0]))
	f.Add(true, frames(honest, fakeSync(0, 20), seeds[3]))
	f.Add(false, frames(seeds...))
	f.Add(false, []byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, open bool, data []byte) {
		e.run(t, open, data)
	})
}
