package db

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestSessionHeapSmallWhenIdle checks that a session which carried only
// small frames holds little memory: there may be a session per peer and
// book, so buffers sized for bulk catch-up (64 KiB each way) would cost
// ~128 KiB per session whatever it carries.
func TestSessionHeapSmallWhenIdle(t *testing.T) {
	ctx := context.Background()
	wdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	rdb := openTest(t, t.TempDir(), &Options{NoSync: true})
	w, err := wdb.Book(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, bytes.Repeat([]byte("m"), 1500), []byte("two"), []byte("three")); err != nil {
		t.Fatal(err)
	}
	r, err := rdb.OpenKey(ctx, w.Key())
	if err != nil {
		t.Fatal(err)
	}
	keys := []ed25519.PublicKey{w.Key()}
	heap := func() uint64 {
		time.Sleep(50 * time.Millisecond) // the sessions' last frames go out
		runtime.GC()
		runtime.GC() // pooled buffers survive one GC (sync.Pool's victim)
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	// One pair first, so what the first session allocates once per DB
	// is not counted per session.
	pipePair(t, wdb, rdb, "w0", "r0", ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys})
	waitPages(t, r, 3)
	before := heap()
	const pairs = 40
	for i := range pairs {
		pipePair(t, wdb, rdb, fmt.Sprintf("w%d", i+1), fmt.Sprintf("r%d", i+1), ReplicateOptions{Books: keys}, ReplicateOptions{Books: keys})
	}
	after := heap()
	perSession := (int64(after) - int64(before)) / (2 * pairs)
	t.Logf("heap per idle session: %d KiB", perSession>>10)
	// The old buffers alone were 128 KiB a session; the small ones are 8.
	if perSession > 48<<10 {
		t.Fatalf("an idle session that carried small frames holds %d KiB of heap", perSession>>10)
	}
	auditClean(t, r)
}

// TestOutQueueBufferGrowsForBulkOnly checks run's write buffer: none
// while the queue is empty, small while frames are small, large while a
// burst is queued, none again once the queue runs empty.
func TestOutQueueBufferGrowsForBulkOnly(t *testing.T) {
	q := newOutQueue()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- q.run(pw) }()
	read := func(n int) []byte {
		t.Helper()
		b := make([]byte, n)
		if _, err := io.ReadFull(pr, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	waitHeld := func(want int64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); q.held.Load() != want; {
			if time.Now().After(deadline) {
				t.Fatalf("write buffer %d bytes, want %d", q.held.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	small := bytes.Repeat([]byte{1}, 1500)
	for range 20 { // one message at a time, as a push
		q.push(bytes.Clone(small))
		q.wake()
		if got := read(len(small)); !bytes.Equal(got, small) {
			t.Fatal("frame changed on the way")
		}
		waitHeld(0) // idle between messages: no buffer held
	}
	// A burst: the pipe is not read, so once the writer blocks on its
	// first write the rest of the burst queues up behind it, more than
	// the small buffer holds.
	var want []byte
	for i := range 100 {
		f := bytes.Repeat([]byte{byte(i)}, 1000)
		want = append(want, f...)
		q.push(f)
		q.wake()
	}
	var got []byte
	chunk := make([]byte, 1000)
	for q.held.Load() != largeWriteBuf {
		if len(got) == len(want) {
			t.Fatal("the burst went out through the small buffer")
		}
		n, err := pr.Read(chunk[:min(len(chunk), len(want)-len(got))])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, chunk[:n]...)
	}
	if got = append(got, read(len(want)-len(got))...); !bytes.Equal(got, want) {
		t.Fatal("burst changed on the way")
	}
	waitHeld(0) // given back once idle
	q.close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
