package db

import (
	"context"
	"sync"
)

// inBudget bounds the bytes of messages read from the remote but not yet
// handled by the session's loop. When they would go over, the reader
// waits, and through the stream's flow control so does the remote: a
// remote that sends faster than the loop handles costs time, not memory.
// One message always fits, whatever its size.
type inBudget struct {
	mu    sync.Mutex
	used  int
	max   int
	freed chan struct{} // a token when bytes come back; one waiter (the reader)
}

func newInBudget(max int) *inBudget {
	return &inBudget{max: max, freed: make(chan struct{}, 1)}
}

// take waits until n more bytes fit, or ctx is done.
func (b *inBudget) take(ctx context.Context, n int) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		select {
		case <-b.freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// give returns n bytes taken before.
func (b *inBudget) give(n int) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	select {
	case b.freed <- struct{}{}:
	default:
	}
}
