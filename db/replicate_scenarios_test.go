package db

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
)

// Replication scenarios between real DBs (Pebble on disk) over net.Pipe or
// loopback TCP: sparse reads, a relay, a dropped connection, a fork, many
// books on one session, a reader that stops reading.

// scnPage is page i of a scenario book: recognisable and about 100 bytes.
func scnPage(tag string, i uint64) []byte {
	p := fmt.Appendf(nil, "%s page %d ", tag, i)
	for len(p) < 100 {
		p = append(p, byte('a'+i%26))
	}
	return p
}

// scnFill appends the pages [from, to) of tag to w, batch pages per append.
func scnFill(t testing.TB, w *book.Book, tag string, from, to uint64, batch int) {
	t.Helper()
	for i := from; i < to; {
		n := min(uint64(batch), to-i)
		pages := make([][]byte, n)
		for j := range pages {
			pages[j] = scnPage(tag, i+uint64(j))
		}
		if _, err := w.Append(context.Background(), pages...); err != nil {
			t.Fatalf("append [%d, %d): %v", i, i+n, err)
		}
		i += n
	}
}

// scnSameBook fails unless r holds exactly what w holds: the same signed
// head (the author's signature, not a relay's), every page equal, and no
// page stored past it.
func scnSameBook(t testing.TB, r, w *book.Book) {
	t.Helper()
	wh, _ := w.Head()
	rh, signed := r.Head()
	if !signed || rh.Fork != wh.Fork || rh.Length != wh.Length || rh.TreeHash != wh.TreeHash || rh.Signature != wh.Signature {
		t.Fatalf("reader head fork %d length %d (signed %v), writer fork %d length %d; same tree %v, same signature %v",
			rh.Fork, rh.Length, signed, wh.Fork, wh.Length, rh.TreeHash == wh.TreeHash, rh.Signature == wh.Signature)
	}
	if err := rh.Verify(w.Key()); err != nil {
		t.Fatalf("reader head does not carry the author's signature: %v", err)
	}
	spans, err := r.Spans(0, 4)
	if err != nil {
		t.Fatal(err)
	}
	if wh.Length > 0 && (len(spans) != 1 || spans[0] != (book.Span{Start: 0, Length: wh.Length})) {
		t.Fatalf("reader holds spans %v, want [0, %d)", spans, wh.Length)
	}
	ctx := context.Background()
	local := &book.GetOptions{LocalOnly: true}
	for i := uint64(0); i < wh.Length; i++ {
		rp, err := r.Get(ctx, i, local)
		if err != nil {
			t.Fatalf("reader page %d: %v", i, err)
		}
		wp, err := w.Get(ctx, i, local)
		if err != nil {
			t.Fatalf("writer page %d: %v", i, err)
		}
		if !bytes.Equal(rp, wp) {
			t.Fatalf("page %d: reader has %q, writer %q", i, rp, wp)
		}
	}
	if ok, err := r.Has(wh.Length); ok || err != nil {
		t.Fatalf("reader has a page past the length: %v %v", ok, err)
	}
}

// scnHeldMatch fails unless every page r holds equals w's page.
func scnHeldMatch(t testing.TB, r, w *book.Book) uint64 {
	t.Helper()
	spans, err := r.Spans(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	local := &book.GetOptions{LocalOnly: true}
	var n uint64
	for _, sp := range spans {
		for i := sp.Start; i < sp.Start+sp.Length; i++ {
			rp, err1 := r.Get(ctx, i, local)
			wp, err2 := w.Get(ctx, i, local)
			if err1 != nil || err2 != nil || !bytes.Equal(rp, wp) {
				t.Fatalf("held page %d: %q (%v), writer %q (%v)", i, rp, err1, wp, err2)
			}
			n++
		}
	}
	return n
}

// scnWait polls cond until it holds, failing after 30 s.
func scnWait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// scnTCPPair starts a session between a and b over a loopback TCP
// connection; wrap, if not nil, wraps b's end.
func scnTCPPair(t testing.TB, a, b *DB, aID, bID string, ao, bo ReplicateOptions, wrap func(net.Conn) net.Conn) (*Session, *Session) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	cb, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ca, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	if wrap != nil {
		cb = wrap(cb)
	}
	ao.LocalID, ao.RemoteID = []byte(aID), []byte(bID)
	bo.LocalID, bo.RemoteID = []byte(bID), []byte(aID)
	sa, err := a.Replicate(context.Background(), ca, ao)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Replicate(context.Background(), cb, bo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sa.Close(); sb.Close() })
	return sa, sb
}

// gateConn passes reads through until after bytes have been read, then
// holds every read until open is called or the conn is closed: a reader
// that stops reading its stream.
type gateConn struct {
	net.Conn
	after   int64
	read    atomic.Int64
	hit     chan struct{} // closed when a read is first held
	gate    chan struct{} // closed by open or Close
	hitOnce sync.Once
	gOnce   sync.Once
}

func newGateConn(c net.Conn, after int64) *gateConn {
	return &gateConn{Conn: c, after: after, hit: make(chan struct{}), gate: make(chan struct{})}
}

func (g *gateConn) Read(p []byte) (int, error) {
	if rem := g.after - g.read.Load(); rem <= 0 {
		g.hitOnce.Do(func() { close(g.hit) })
		<-g.gate
	} else if int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := g.Conn.Read(p)
	g.read.Add(int64(n))
	return n, err
}

func (g *gateConn) open() { g.gOnce.Do(func() { close(g.gate) }) }

func (g *gateConn) Close() error { g.open(); return g.Conn.Close() }

// waitHit waits until g holds a read.
func (g *gateConn) waitHit(t testing.TB) {
	t.Helper()
	select {
	case <-g.hit:
	case <-time.After(30 * time.Second):
		t.Fatalf("the stream never reached %d bytes (read %d)", g.after, g.read.Load())
	}
}

// cutConn closes its connection once limit bytes have been read: the
// network drops in the middle of a transfer.
type cutConn struct {
	net.Conn
	limit int64
	read  int64
}

func (c *cutConn) Read(p []byte) (int, error) {
	rem := c.limit - c.read
	if rem <= 0 {
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	if int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.Conn.Read(p)
	c.read += int64(n)
	return n, err
}

// peerErrors records what a ReplicationListener hears.
type peerErrors struct {
	mu     sync.Mutex
	errs   []error
	opened int
}

func (p *peerErrors) listener() *ReplicationListener {
	return &ReplicationListener{
		PeerError: func(_ []byte, err error) {
			p.mu.Lock()
			p.errs = append(p.errs, err)
			p.mu.Unlock()
		},
		ChannelOpened: func([]byte, ed25519.PublicKey) {
			p.mu.Lock()
			p.opened++
			p.mu.Unlock()
		},
	}
}

func (p *peerErrors) all() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

func (p *peerErrors) channels() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opened
}

func waitDone(t testing.TB, s *Session, what string) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: session did not end", what)
	}
}

func TestReplicateSparseGet(t *testing.T) {
	ctx := context.Background()
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	w, err := wdb.Book(ctx, "sparse")
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	scnFill(t, w, "s", 0, n, 500)
	r, err := rdb.OpenKey(ctx, w.Key())
	if err != nil {
		t.Fatal(err)
	}
	keys := []ed25519.PublicKey{w.Key()}
	pipePair(t, wdb, rdb, "writer", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys, Sparse: true})

	get := func(i uint64) error {
		gctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		p, err := r.Get(gctx, i, nil)
		if err != nil {
			return fmt.Errorf("get %d: %w", i, err)
		}
		if !bytes.Equal(p, scnPage("s", i)) {
			return fmt.Errorf("get %d = %q", i, p)
		}
		return nil
	}
	// One at a time (the first before the reader even has the head), then
	// several readers at once.
	for _, i := range []uint64{3, 1500, n - 1} {
		if err := get(i); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, i := range []uint64{700, 701, 1234} {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- get(i) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A page past the signed length: Get waits for the network, bounded
	// by its context.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = r.Get(short, 5000, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get past the length: %v, want a deadline error", err)
	}
	if r.Length() != n {
		t.Fatalf("sparse reader length %d, want %d", r.Length(), n)
	}
	time.Sleep(100 * time.Millisecond) // room for a wrongful download to show
	wantSpans := []book.Span{{Start: 3, Length: 1}, {Start: 700, Length: 2}, {Start: 1234, Length: 1}, {Start: 1500, Length: 1}, {Start: n - 1, Length: 1}}
	spans, err := r.Spans(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(spans) != fmt.Sprint(wantSpans) {
		t.Fatalf("sparse reader holds %v, want only %v", spans, wantSpans)
	}
	for _, i := range []uint64{0, 2, 4, 699, 702, 1000, n - 2} {
		if ok, err := r.Has(i); ok || err != nil {
			t.Fatalf("Has(%d) = %v, %v: a page nobody asked for", i, ok, err)
		}
	}
	auditClean(t, r)

	// Live: the sparse reader learns every new length, fetches no page
	// until asked, then fetches the one asked for.
	scnFill(t, w, "s", n, n+10, 1)
	waitLength(t, r, n+10)
	if ok, _ := r.Has(n + 5); ok {
		t.Fatal("sparse reader downloaded a live page nobody asked for")
	}
	if err := get(n + 5); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.Has(n + 6); ok {
		t.Fatal("sparse reader downloaded a live page nobody asked for")
	}
	h, _ := r.Head()
	wh, _ := w.Head()
	if h.Signature != wh.Signature {
		t.Fatal("sparse reader's head is not the writer's")
	}
	auditClean(t, r)
}

func TestReplicateRelay(t *testing.T) {
	ctx := context.Background()
	adb := openTest(t, t.TempDir(), &Options{NoSync: true})
	bdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	cdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	a, err := adb.Book(ctx, "origin")
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	scnFill(t, a, "A", 0, n, 500)
	key := a.Key()
	b, err := bdb.OpenKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cdb.OpenKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if in, err := bdb.Info(key); err != nil || in.Writable || b.Writable() {
		t.Fatalf("the relay must not hold the secret: %+v %v", in, err)
	}
	keys := []ed25519.PublicKey{key}
	var cErrs, bErrs peerErrors
	pipePair(t, adb, bdb, "A", "B", ReplicateOptions{Books: keys, Listener: bErrs.listener()}, ReplicateOptions{Books: keys, Listener: bErrs.listener()})
	pipePair(t, bdb, cdb, "B", "C", ReplicateOptions{Books: keys, Listener: bErrs.listener()}, ReplicateOptions{Books: keys, Listener: cErrs.listener()})

	waitLength(t, c, n)
	waitPages(t, c, n)
	scnSameBook(t, c, a)
	scnSameBook(t, b, a)

	// Live: each append at A reaches C through B, and every head C
	// stores is the one A signed at that length.
	for i := uint64(n); i < n+30; i++ {
		scnFill(t, a, "A", i, i+1, 1)
		waitLength(t, c, i+1)
		ah, _ := a.Head()
		ch, _ := c.Head()
		if ch.Length == ah.Length && ch.Signature != ah.Signature {
			t.Fatalf("C's head at length %d is not A's", ch.Length)
		}
		if err := ch.Verify(key); err != nil {
			t.Fatalf("C's head at length %d: %v", ch.Length, err)
		}
	}
	waitPages(t, c, n+30)
	scnSameBook(t, c, a)
	scnSameBook(t, b, a)
	auditClean(t, b)
	auditClean(t, c)
	if e := append(bErrs.all(), cErrs.all()...); len(e) > 0 {
		t.Fatalf("peer errors on the relay session: %v", e)
	}
}

// TestReplicateTwoSources: a reader follows the author and a relay at
// once while the author appends. Its two peers are at different lengths
// all the time, so answers often prove pages against a head the reader
// has moved past, or one the reader has not reached; none of that is a
// peer's fault.
func TestReplicateTwoSources(t *testing.T) {
	ctx := context.Background()
	adb := openTest(t, t.TempDir(), &Options{NoSync: true})
	bdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	ddb := openTest(t, t.TempDir(), &Options{NoSync: true})
	a, err := adb.Book(ctx, "origin")
	if err != nil {
		t.Fatal(err)
	}
	scnFill(t, a, "A", 0, 2000, 500)
	b, err := bdb.OpenKey(ctx, a.Key())
	if err != nil {
		t.Fatal(err)
	}
	d, err := ddb.OpenKey(ctx, a.Key())
	if err != nil {
		t.Fatal(err)
	}
	keys := []ed25519.PublicKey{a.Key()}
	var errs peerErrors
	o := ReplicateOptions{Books: keys, Listener: errs.listener()}
	pipePair(t, adb, bdb, "A", "B", o, o)
	pipePair(t, bdb, ddb, "B", "D", o, o)
	pipePair(t, adb, ddb, "A", "D", o, o)
	const n = 4000
	for i := uint64(2000); i < n; i += 10 {
		scnFill(t, a, "A", i, i+10, 5)
		if i%200 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	waitLength(t, d, n)
	waitPages(t, d, n)
	waitPages(t, b, n)
	scnSameBook(t, d, a)
	scnSameBook(t, b, a)
	auditClean(t, d)
	if e := errs.all(); len(e) > 0 {
		t.Fatalf("honest peers reported: %v", e)
	}
}

// TestReplicateResumeAfterDrop drops the connection twice in the middle of
// a 20,000-page transfer: once the network (a TCP connection closed under
// the reader), once the writer ending its session while the reader is
// behind. Each new session resumes from what was stored.
func TestReplicateResumeAfterDrop(t *testing.T) {
	ctx := context.Background()
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	w, err := wdb.Book(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000 // about 2 MB of pages
	scnFill(t, w, "d", 0, n, 2000)
	r, err := rdb.OpenKey(ctx, w.Key())
	if err != nil {
		t.Fatal(err)
	}
	keys := []ed25519.PublicKey{w.Key()}
	var wErrs, rErrs peerErrors
	wo := ReplicateOptions{Books: keys, Listener: wErrs.listener()}
	ro := ReplicateOptions{Books: keys, Listener: rErrs.listener()}

	// 1. The TCP connection closes under the reader after 900 KB (an answer
	// carries up to 512 KiB of pages).
	sw, sr := scnTCPPair(t, wdb, rdb, "writer", "reader", wo, ro, func(c net.Conn) net.Conn {
		return &cutConn{Conn: c, limit: 900 << 10}
	})
	waitDone(t, sr, "reader after the drop")
	waitDone(t, sw, "writer after the drop")
	held1 := scnHeldMatch(t, r, w)
	if r.Length() != n || held1 == 0 || held1 >= n {
		t.Fatalf("after the drop the reader has length %d and %d pages: not a drop mid-transfer", r.Length(), held1)
	}
	auditClean(t, r)
	for _, s := range []*Session{sw, sr} {
		if err := s.Err(); errors.Is(err, ErrProtocol) {
			t.Fatalf("a dropped connection is not a protocol violation: %v", err)
		}
	}
	if e := append(wErrs.all(), rErrs.all()...); len(e) > 0 {
		t.Fatalf("a dropped connection reported as a peer error: %v", e)
	}

	// 2. The writer ends its session while the reader is paused 1 MB on.
	// Closing cuts the frame being written: the reader sees a truncated
	// message, which it cannot tell from a peer that sends one on purpose.
	var gate *gateConn
	sw, sr = pipePairWrapped(t, wdb, rdb, "writer", "reader", wo, ro, func(c net.Conn) net.Conn {
		gate = newGateConn(c, 1<<20)
		return gate
	})
	gate.waitHit(t)
	sw.Close()
	gate.open()
	waitDone(t, sr, "reader after the writer closed")
	if err := sr.Err(); errors.Is(err, ErrProtocol) && !strings.Contains(err.Error(), "truncated message") {
		t.Fatalf("reader session after the writer closed: %v", err)
	}
	held2 := scnHeldMatch(t, r, w)
	if held2 <= held1 || held2 >= n {
		t.Fatalf("second session: reader holds %d pages, had %d, book has %d", held2, held1, n)
	}
	auditClean(t, r)

	// 3. A new session completes the book: nothing lost, nothing twice.
	pipePair(t, wdb, rdb, "writer", "reader", wo, ro)
	waitPages(t, r, n)
	scnSameBook(t, r, w)
	auditClean(t, r)
	for _, err := range append(wErrs.all(), rErrs.all()...) {
		if !strings.Contains(err.Error(), "truncated message") {
			t.Fatalf("peer error: %v", err)
		}
	}
}

// pipePairWrapped is pipePair with b's end wrapped.
func pipePairWrapped(t testing.TB, a, b *DB, aID, bID string, ao, bo ReplicateOptions, wrap func(net.Conn) net.Conn) (*Session, *Session) {
	t.Helper()
	ca, cb := net.Pipe()
	ao.LocalID, ao.RemoteID = []byte(aID), []byte(bID)
	bo.LocalID, bo.RemoteID = []byte(bID), []byte(aID)
	sa, err := a.Replicate(context.Background(), ca, ao)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Replicate(context.Background(), wrap(cb), bo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sa.Close(); sb.Close() })
	return sa, sb
}

func TestReplicateTruncateFork(t *testing.T) {
	ctx := context.Background()
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})

	t.Run("following", func(t *testing.T) {
		w, err := wdb.Book(ctx, "fork")
		if err != nil {
			t.Fatal(err)
		}
		scnFill(t, w, "old", 0, 100, 10)
		r, err := rdb.OpenKey(ctx, w.Key())
		if err != nil {
			t.Fatal(err)
		}
		keys := []ed25519.PublicKey{w.Key()}
		var errs peerErrors
		pipePair(t, wdb, rdb, "writer", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys, Listener: errs.listener()})
		waitPages(t, r, 100)

		// Truncate and write a different history.
		if err := w.Truncate(ctx, 60); err != nil {
			t.Fatal(err)
		}
		scnFill(t, w, "new", 60, 90, 10)
		scnWait(t, "the reader to reach the new fork", func() bool {
			c, _ := r.Contiguous(0)
			return r.Fork() == 1 && r.Length() == 90 && c == 90
		})
		scnSameBook(t, r, w)
		if p, _ := r.Get(ctx, 75, &book.GetOptions{LocalOnly: true}); !bytes.Equal(p, scnPage("new", 75)) {
			t.Fatalf("page 75 after the fork = %q", p)
		}
		auditClean(t, r)

		// Truncate to shorter and grow again: pages of the old forks past
		// the cut never come back.
		if err := w.Truncate(ctx, 50); err != nil {
			t.Fatal(err)
		}
		scnWait(t, "the reader to take the shorter fork", func() bool { return r.Fork() == 2 && r.Length() == 50 })
		if ok, _ := r.Has(60); ok {
			t.Fatal("the reader kept a page the fork removed")
		}
		scnFill(t, w, "newer", 50, 120, 7)
		scnWait(t, "the reader to follow the third fork", func() bool {
			c, _ := r.Contiguous(0)
			return r.Fork() == 2 && r.Length() == 120 && c == 120
		})
		scnSameBook(t, r, w)
		auditClean(t, r)
		if e := errs.all(); len(e) > 0 {
			t.Fatalf("peer errors: %v", e)
		}
	})

	// The fork arrives while the reader is in the middle of the old one,
	// with requests in flight; the writer is idle afterwards, so nothing
	// but the fork itself tells the reader to go on.
	t.Run("mid-transfer", func(t *testing.T) {
		w, err := wdb.Book(ctx, "fork-mid")
		if err != nil {
			t.Fatal(err)
		}
		scnFill(t, w, "old", 0, 8000, 1000)
		r, err := rdb.OpenKey(ctx, w.Key())
		if err != nil {
			t.Fatal(err)
		}
		keys := []ed25519.PublicKey{w.Key()}
		var gate *gateConn
		pipePairWrapped(t, wdb, rdb, "writer", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys}, func(c net.Conn) net.Conn {
			gate = newGateConn(c, 200<<10)
			return gate
		})
		gate.waitHit(t)
		if err := w.Truncate(ctx, 1000); err != nil {
			t.Fatal(err)
		}
		scnFill(t, w, "fork", 1000, 1500, 100)
		gate.open()
		scnWait(t, "the reader to complete the new fork", func() bool {
			c, _ := r.Contiguous(0)
			return r.Fork() == 1 && r.Length() == 1500 && c == 1500
		})
		scnSameBook(t, r, w)
		auditClean(t, r)
	})
}

// scnManyBooks makes n books in wdb, each with pages pages (book i's tag
// is "b<i>"), and opens each by key in rdb.
func scnManyBooks(t testing.TB, wdb, rdb *DB, n int, pages uint64) (ws, rs []*book.Book, keys []ed25519.PublicKey) {
	t.Helper()
	ctx := context.Background()
	ws, rs, keys = make([]*book.Book, n), make([]*book.Book, n), make([]ed25519.PublicKey, n)
	for i := range ws {
		w, err := wdb.Book(ctx, fmt.Sprintf("book-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		scnFill(t, w, fmt.Sprintf("b%d", i), 0, pages, int(max(pages, 1)))
		r, err := rdb.OpenKey(ctx, w.Key())
		if err != nil {
			t.Fatal(err)
		}
		ws[i], rs[i], keys[i] = w, r, w.Key()
	}
	return ws, rs, keys
}

func TestReplicateManyBooks(t *testing.T) {
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	const books, pages = 1000, 3
	ws, rs, keys := scnManyBooks(t, wdb, rdb, books, pages)
	// The writer offers half of them as the session starts and the rest
	// with Session.Open; the reader opens each when offered (it holds
	// every key).
	var errs peerErrors
	before := runtime.NumGoroutine()
	sw, _ := pipePair(t, wdb, rdb, "writer", "reader", ReplicateOptions{Books: keys[:books/2]}, ReplicateOptions{Listener: errs.listener()})
	for _, k := range keys[books/2:] {
		if err := sw.Open(k); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rs {
		scnWait(t, fmt.Sprintf("book %d (length %d)", i, r.Length()), func() bool {
			c, _ := r.Contiguous(0)
			return c == pages
		})
	}
	if got := errs.channels(); got != books {
		t.Fatalf("%d channels opened, want %d", got, books)
	}
	// Two sessions of 1,000 channels each run a few goroutines (reader,
	// writer, loop, the pipe's), not one per channel: a goroutine per book
	// would add 2,000. (The slack is for Pebble's own.)
	if n := runtime.NumGoroutine() - before; n > 40 {
		t.Fatalf("%d goroutines more with the two sessions of %d books each", n, books)
	}
	for i := range rs {
		scnSameBook(t, rs[i], ws[i])
	}
	auditAll(t, rdb)
	if e := errs.all(); len(e) > 0 {
		t.Fatalf("peer errors: %v", e)
	}

	// And live: one more page in every book, over the same session.
	for i, w := range ws {
		scnFill(t, w, fmt.Sprintf("b%d", i), pages, pages+1, 1)
	}
	for i, r := range rs {
		scnWait(t, fmt.Sprintf("book %d live page", i), func() bool {
			c, _ := r.Contiguous(0)
			return c == pages+1
		})
		scnSameBook(t, r, ws[i])
	}
}

// TestReplicateStalledReaderNeverBlocksWriter: one reader stops reading
// its stream in the middle of a download. The writer keeps appending at
// full speed, and another reader of the same writer keeps up.
func TestReplicateStalledReaderNeverBlocksWriter(t *testing.T) {
	ctx := context.Background()
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	slowDB := openTest(t, t.TempDir(), &Options{NoSync: true})
	fastDB := openTest(t, t.TempDir(), &Options{NoSync: true})
	w, err := wdb.Book(ctx, "flow")
	if err != nil {
		t.Fatal(err)
	}
	const n, more = 5000, 2000
	scnFill(t, w, "f", 0, n, 1000)
	slow, err := slowDB.OpenKey(ctx, w.Key())
	if err != nil {
		t.Fatal(err)
	}
	fast, err := fastDB.OpenKey(ctx, w.Key())
	if err != nil {
		t.Fatal(err)
	}
	keys := []ed25519.PublicKey{w.Key()}
	var gate *gateConn
	wslow, _ := pipePairWrapped(t, wdb, slowDB, "writer", "slow", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys}, func(c net.Conn) net.Conn {
		gate = newGateConn(c, 64<<10)
		return gate
	})
	gate.waitHit(t) // the slow reader has requests in flight and reads no more
	pipePair(t, wdb, fastDB, "writer", "fast", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys})

	// The appends must finish while the reader stays stalled (the gate
	// opens only below). Whether one is slow depends on the machine, so
	// only completion is asserted; the watchdog turns a writer blocked
	// on the reader into a clear failure rather than the test timeout.
	var worst time.Duration
	appended := make(chan struct{})
	go func() {
		defer close(appended)
		for i := uint64(n); i < n+more; i++ {
			start := time.Now()
			if _, err := w.Append(context.Background(), scnPage("f", i)); err != nil {
				t.Error(err)
				return
			}
			worst = max(worst, time.Since(start))
		}
	}()
	select {
	case <-appended:
	case <-time.After(2 * time.Minute):
		t.Fatal("the writer's appends did not finish while a reader was stalled: an append waits on the reader")
	}
	if t.Failed() {
		t.FailNow()
	}
	waitLength(t, fast, n+more)
	waitPages(t, fast, n+more)
	scnSameBook(t, fast, w)
	if c, _ := slow.Contiguous(0); c >= n {
		t.Fatalf("the stalled reader holds %d pages: it was not stalled", c)
	}
	select {
	case <-wslow.Done():
		t.Fatalf("the writer dropped the stalled reader: %v", wslow.Err())
	default:
	}
	t.Logf("worst append while a reader was stalled: %v", worst)

	// The stalled reader reads again and catches up on the same session.
	gate.open()
	waitLength(t, slow, n+more)
	waitPages(t, slow, n+more)
	scnSameBook(t, slow, w)
	auditClean(t, slow)
}
