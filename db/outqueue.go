package db

import (
	"bufio"
	"io"
	"sync"
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
}

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
	bw := bufio.NewWriterSize(w, 64<<10)
	for {
		q.mu.Lock()
		for len(q.frames) == 0 && !q.closed {
			q.mu.Unlock()
			if err := bw.Flush(); err != nil {
				return err
			}
			q.mu.Lock()
			if len(q.frames) == 0 && !q.closed {
				q.cond.Wait()
			}
		}
		if q.closed {
			q.mu.Unlock()
			return bw.Flush()
		}
		frames := q.frames
		q.frames = nil
		q.mu.Unlock()
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
