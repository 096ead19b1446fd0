package book

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestWatch: the function is called on every append, when a reader starts
// waiting for a missing page, and once on close; never after stop.
func TestWatch(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	var calls atomic.Int64
	called := make(chan struct{}, 16)
	stop := w.Watch(func() {
		calls.Add(1)
		select {
		case called <- struct{}{}:
		default:
		}
	})
	for i := range 5 {
		mustAppend(t, w, testPages(i, i+1)...)
		if got := calls.Load(); got != int64(i+1) {
			t.Fatalf("after %d appends: %d calls", i+1, got)
		}
		<-called
	}

	// A Get of a page not yet written marks a want: the watcher hears it
	// before the Get is answered.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan error, 1)
	go func() {
		_, err := w.Get(ctx, 5, nil)
		got <- err
	}()
	<-called
	if ws, _ := w.Wants(); len(ws) != 1 || ws[0] != 5 {
		t.Fatalf("the watcher was called with wants %v, want [5]", ws)
	}
	mustAppend(t, w, testPages(5, 6)...)
	if err := <-got; err != nil {
		t.Fatal(err)
	}

	// A second watcher hears the close once; a stopped one hears nothing.
	n := calls.Load()
	stop()
	mustAppend(t, w, testPages(6, 7)...)
	if calls.Load() != n {
		t.Fatalf("called after stop: %d calls, want %d", calls.Load(), n)
	}
	var closes atomic.Int64
	w.Watch(func() { closes.Add(1) })
	w.Close()
	w.Close()
	if closes.Load() != 1 {
		t.Fatalf("close: %d calls, want 1", closes.Load())
	}
	// Watching a closed book calls f at once, as its close would have.
	var late atomic.Int64
	w.Watch(func() { late.Add(1) })
	if late.Load() != 1 {
		t.Fatalf("watch of a closed book: %d calls, want 1", late.Load())
	}
}
