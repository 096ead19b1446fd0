package db

import (
	"bufio"
	"io"
	"sync"
	"sync/atomic"
)

// outQueue holds a session's outgoing frames for its writer goroutine. Its
// size is bounded by the protocol, not by blocking: an honest remote keeps
// at most its window of requests in flight, so the bytes queued for it stay
// under the limit; a remote that floods requests (or stops reading while it
// asks for more) goes past the limit and the session ends.
type outQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	frames [][]byte
	bytes  int
	closed bool
	// free holds frame buffers written out, for buffer: an answer is
	// some 512 KiB, and a fresh one each time costs zeroing and GC. A
	// sync.Pool, so an idle session's buffers go at the next GCs.
	free sync.Pool // of *[]byte
	// writers and smallWriters hold run's write buffers while the queue
	// is empty (see run).
	writers      sync.Pool // of *bufio.Writer, large
	smallWriters sync.Pool // of *bufio.Writer, small
	// held is the size of the write buffer run holds, for tests.
	held atomic.Int64
}

// Write buffers: run coalesces the frames it finds queued into few
// writes. Most sessions only carry small frames (a message push of a KiB
// or two, control messages), for which a small buffer does; a session
// whose queue holds more than that at once (bulk catch-up) takes a large
// buffer until its queue runs empty. Either buffer goes back to the
// session's pools once the queue runs empty, so an idle session holds no
// write buffer after two GCs (there is a session per connection end:
// 9,900 at 100 members). A frame larger than the buffer is written
// directly by bufio either way.
const (
	smallWriteBuf = 4 << 10
	largeWriteBuf = 64 << 10
)

// minPooledFrame: smaller frames (control messages) are not worth keeping.
const minPooledFrame = 16 << 10

// buffer returns an empty buffer to append a frame to for push.
func (q *outQueue) buffer() []byte {
	if p, _ := q.free.Get().(*[]byte); p != nil {
		return (*p)[:0]
	}
	return nil
}

// recycle gives back the buffer of a frame written out.
func (q *outQueue) recycle(f []byte) {
	if cap(f) >= minPooledFrame {
		q.free.Put(&f)
	}
}

func newOutQueue() *outQueue {
	q := &outQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push queues a frame, which the queue then owns, and returns the bytes
// now queued. The writer goroutine is not woken: wake does that once the
// caller has queued the rest of its frames, so that a step's output goes
// out in one write (a push and the Sync after it: one TLS record, one
// syscall, one wake of the remote's reader, instead of two of each).
func (q *outQueue) push(f []byte) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0
	}
	q.frames = append(q.frames, f)
	q.bytes += len(f)
	return q.bytes
}

// wake tells the writer goroutine of the frames pushed.
func (q *outQueue) wake() {
	q.mu.Lock()
	if len(q.frames) > 0 {
		q.cond.Signal()
	}
	q.mu.Unlock()
}

func (q *outQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// run writes frames to w until the queue closes or a write fails. It
// flushes whenever the queue runs empty, so small messages go out at once
// and bulk data goes out in large writes.
func (q *outQueue) run(w io.Writer) error {
	var bw *bufio.Writer // nil while idle
	for {
		q.mu.Lock()
		for len(q.frames) == 0 && !q.closed {
			q.mu.Unlock()
			if bw != nil { // idle: flush and give the buffer back
				if err := bw.Flush(); err != nil {
					return err
				}
				q.putWriter(bw)
				bw = nil
			}
			q.mu.Lock()
			if len(q.frames) == 0 && !q.closed {
				q.cond.Wait()
			}
		}
		if q.closed {
			q.mu.Unlock()
			if bw == nil {
				return nil
			}
			return bw.Flush()
		}
		frames, queued := q.frames, q.bytes
		q.frames = nil
		q.mu.Unlock()
		switch {
		case bw == nil:
			bw = q.writer(w, queued > smallWriteBuf)
		case bw.Size() == smallWriteBuf && queued > smallWriteBuf:
			if err := bw.Flush(); err != nil {
				return err
			}
			q.putWriter(bw)
			bw = q.writer(w, true)
		}
		for _, f := range frames {
			if _, err := bw.Write(f); err != nil {
				return err
			}
			q.mu.Lock()
			q.bytes -= len(f)
			q.mu.Unlock()
			q.recycle(f) // a Write keeps nothing of f (io.Writer's rule)
		}
	}
}

// writer returns a write buffer onto w, large or small, pooled or new.
func (q *outQueue) writer(w io.Writer, large bool) *bufio.Writer {
	pool, size := &q.smallWriters, smallWriteBuf
	if large {
		pool, size = &q.writers, largeWriteBuf
	}
	q.held.Store(int64(size))
	if bw, _ := pool.Get().(*bufio.Writer); bw != nil {
		bw.Reset(w)
		return bw
	}
	return bufio.NewWriterSize(w, size)
}

// putWriter gives back a flushed write buffer.
func (q *outQueue) putWriter(bw *bufio.Writer) {
	q.held.Store(0)
	bw.Reset(nil)
	if bw.Size() == largeWriteBuf {
		q.writers.Put(bw)
	} else {
		q.smallWriters.Put(bw)
	}
}
