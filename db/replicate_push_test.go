package db

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"net"
	"sync"
	"testing"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
)

// tapConn records the messages written and read on a replication stream.
type tapConn struct {
	net.Conn
	mu       sync.Mutex
	in, out  []byte        // bytes not yet parsed into a whole frame
	got, put []*pb.Message // parsed messages read and written
	// reads counts the reads that returned bytes: on a net.Pipe, each
	// returns bytes of one write of the other end.
	reads int
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if n > 0 {
		c.reads++
	}
	c.in, c.got = tapParse(append(c.in, p[:n]...), c.got)
	c.mu.Unlock()
	return n, err
}

func (c *tapConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out, c.put = tapParse(append(c.out, p...), c.put)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// tapParse moves every whole frame at the start of buf into ms.
func tapParse(buf []byte, ms []*pb.Message) ([]byte, []*pb.Message) {
	for {
		n, k := binary.Uvarint(buf)
		if k <= 0 || uint64(len(buf)-k) < n {
			return buf, ms
		}
		m, err := decodeMessage(buf[k : k+int(n)])
		if err != nil {
			panic(err) // our own sessions wrote it
		}
		ms = append(ms, m)
		buf = buf[k+int(n):]
	}
}

// since returns the messages read and written after the marks.
func (c *tapConn) since(gotMark, putMark int) (got, put []*pb.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*pb.Message(nil), c.got[gotMark:]...), append([]*pb.Message(nil), c.put[putMark:]...)
}

func (c *tapConn) marks() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got), len(c.put)
}

// tappedPair starts a writer whose book holds pages of tag in appends of
// batch, and a reader replicating it over a pipe whose reader end is
// tapped.
func tappedPair(t *testing.T, tag string, pages uint64, batch int, listener *ReplicationListener) (w, r *book.Book, tap *tapConn, sw, sr *Session) {
	t.Helper()
	ctx := context.Background()
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	w, err := wdb.Book(ctx, "log")
	if err != nil {
		t.Fatal(err)
	}
	scnFill(t, w, tag, 0, pages, batch)
	if r, err = rdb.OpenKey(ctx, w.Key()); err != nil {
		t.Fatal(err)
	}
	keys := []ed25519.PublicKey{w.Key()}
	sw, sr = pipePairWrapped(t, wdb, rdb, "writer", "reader", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys, Listener: listener},
		func(c net.Conn) net.Conn { tap = &tapConn{Conn: c}; return tap })
	return w, r, tap, sw, sr
}

// waitWriterKnows waits until the writer knows the reader holds every
// page up to n before the next append (else it rightly falls back to a
// Sync): from the reader's Sync after its download, then from where its
// own pushes left it.
func waitWriterKnows(t *testing.T, sw *Session, w *book.Book, n uint64) {
	t.Helper()
	scnWait(t, "the writer to know the reader holds every page", func() bool {
		var known uint64
		sw.onLoop(func() {
			c := sw.byKey[string(w.Key())]
			known = c.rContig
			if c.pushFork == c.rFork {
				known = max(known, c.pushLen)
			}
		})
		return known == n
	})
}

// TestPushNotifiesInOneMessage: a reader that holds every page learns of
// each new append, with its page, from one pushed Data, and sends
// nothing back (no Request, no Sync), nor wakes its own loop; a reader
// behind still catches up by requests.
func TestPushNotifiesInOneMessage(t *testing.T) {
	ctx := context.Background()
	w, r, tap, sw, sr := tappedPair(t, "w", 300, 100, nil)
	waitPages(t, r, 300)
	marks := sr.marksOf()
	for i := uint64(300); i < 320; i++ {
		waitWriterKnows(t, sw, w, i)
		// ... and the reader has read the writer's Sync after its last
		// push, so that the next message it reads is the next push.
		scnWait(t, "the writer's sync", func() bool {
			got, _ := tap.since(0, 0)
			for j := len(got) - 1; j >= 0; j-- {
				if s := got[j].GetSync(); s != nil {
					return s.GetLength() == i
				}
			}
			return false
		})
		gm, pm := tap.marks()
		if _, err := w.Append(ctx, scnPage("w", i)); err != nil {
			t.Fatal(err)
		}
		waitPages(t, r, i+1)
		got, put := tap.since(gm, pm)
		for _, m := range put {
			// Nor a Sync: the writer knows where its push left it.
			if m.GetRequest() != nil || m.GetSync() != nil {
				t.Fatalf("append %d: the caught-up reader sent %v", i, m)
			}
		}
		if len(got) == 0 || got[0].GetData() == nil || got[0].GetData().GetId() != pushID ||
			len(got[0].GetData().GetRange().GetValues()) != 1 || got[0].GetData().GetUpgrade() == nil {
			t.Fatalf("append %d: the reader's first message was %v, want a push of the head and one page", i, got)
		}
	}
	// The reader stored each push without waking its own loop: the step
	// that stored it handled the change (Session.watch).
	if n := sr.marksOf() - marks; n != 0 {
		t.Fatalf("20 stored pushes woke the reader's loop %d times", n)
	}
	// Far behind: no push; the reader asks, and gets everything.
	if err := func() error {
		batch := make([][]byte, 0, 500)
		for i := uint64(320); i < 820; i++ {
			batch = append(batch, scnPage("w", i))
		}
		_, err := w.Append(ctx, batch...)
		return err
	}(); err != nil {
		t.Fatal(err)
	}
	waitPages(t, r, 820)
	scnSameBook(t, r, w)
	got, _ := tap.since(0, 0)
	for _, m := range got {
		if d := m.GetData(); d != nil && d.GetId() == pushID && len(d.GetRange().GetValues()) > maxPushPages {
			t.Fatalf("a push of %d pages", len(d.GetRange().GetValues()))
		}
	}
}

// TestPushAndSyncInOneWrite: the writer sends a push and the Sync after
// it in one write (one TLS record and one syscall on a real stream, one
// wake of the reader's goroutines), not one write each.
func TestPushAndSyncInOneWrite(t *testing.T) {
	ctx := context.Background()
	w, r, tap, sw, _ := tappedPair(t, "w", 10, 10, nil)
	waitPages(t, r, 10)
	const appends = 20
	writes := 0
	for i := uint64(10); i < 10+appends; i++ {
		waitWriterKnows(t, sw, w, i)
		lastSync := func() uint64 {
			got, _ := tap.since(0, 0)
			for j := len(got) - 1; j >= 0; j-- {
				if s := got[j].GetSync(); s != nil {
					return s.GetLength()
				}
			}
			return 0
		}
		scnWait(t, "the writer's sync", func() bool { return lastSync() == i })
		tap.mu.Lock()
		reads, gm := tap.reads, len(tap.got)
		tap.mu.Unlock()
		if _, err := w.Append(ctx, scnPage("w", i)); err != nil {
			t.Fatal(err)
		}
		waitPages(t, r, i+1)
		scnWait(t, "the writer's sync after its push", func() bool { return lastSync() == i+1 })
		tap.mu.Lock()
		writes += tap.reads - reads
		got := append([]*pb.Message(nil), tap.got[gm:]...)
		tap.mu.Unlock()
		if len(got) != 2 || got[0].GetData().GetId() != pushID || got[0].GetData().GetUpgrade() == nil || got[1].GetSync() == nil {
			t.Fatalf("append %d: the reader read %v, want a push and a Sync", i, got)
		}
	}
	if writes != appends {
		t.Fatalf("%d pushes and their Syncs came in %d writes, want one each", appends, writes)
	}
}
