package book

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

const (
	eventually = 5 * time.Second       // a result that must come
	briefly    = 30 * time.Millisecond // how long a blocked call is watched
)

func TestSubscribeEveryAppend(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	sub := w.Subscribe()
	defer sub.Close()
	select {
	case u := <-sub.C:
		t.Fatalf("update %+v before any change", u)
	default:
	}
	var bl uint64
	for i := 0; i < 50; i++ {
		pages := testPages(i*2, i*2+1+i%2)
		res := mustAppend(t, w, pages...)
		for _, p := range pages {
			bl += uint64(len(p))
		}
		select {
		case u := <-sub.C:
			if u != (Update{Length: res.Length, ByteLength: bl, Fork: 0}) {
				t.Fatalf("append %d: update %+v, want length %d bytes %d", i, u, res.Length, bl)
			}
		default:
			t.Fatalf("append %d produced no update", i)
		}
	}
	if err := w.Truncate(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	if u := <-sub.C; u.Length != 3 || u.Fork != 1 {
		t.Fatalf("truncate update %+v", u)
	}
}

func TestSubscribeSlowReaderNeverBlocks(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	slow := w.Subscribe() // never read during the appends
	defer slow.Close()
	fast := w.Subscribe() // read concurrently
	defer fast.Close()
	var seen []uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		for u := range fast.C {
			seen = append(seen, u.Length)
			if u.Length == 1000 {
				return
			}
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			if _, err := w.Append(context.Background(), []byte{byte(i)}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the writer blocked on a subscriber that does not read")
	}
	wg.Wait()
	if len(slow.C) != 1 {
		t.Fatalf("slow subscriber holds %d updates, want 1", len(slow.C))
	}
	if u := <-slow.C; u.Length != 1000 || u.ByteLength != 1000 {
		t.Fatalf("slow subscriber's update %+v, want the latest (1000)", u)
	}
	if len(seen) == 0 || seen[len(seen)-1] != 1000 {
		t.Fatalf("fast subscriber ended at %v", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("fast subscriber saw lengths out of order: %d after %d", seen[i], seen[i-1])
		}
	}
}

func TestSubscriptionClose(t *testing.T) {
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	a, b := w.Subscribe(), w.Subscribe()
	a.Close()
	a.Close() // twice is fine
	if _, ok := <-a.C; ok {
		t.Fatal("closed subscription delivered an update")
	}
	mustAppend(t, w, []byte("x")) // publishing after a close does not panic
	if u, ok := <-b.C; !ok || u.Length != 1 {
		t.Fatalf("open subscription: %+v %v", u, ok)
	}
	w.Close()
	select {
	case _, ok := <-b.C:
		if ok {
			t.Fatal("update after the book closed")
		}
	case <-time.After(eventually):
		t.Fatal("closing the book did not close the subscription")
	}
	b.Close() // after the book closed it, still fine
	c := w.Subscribe()
	if _, ok := <-c.C; ok {
		t.Fatal("subscription to a closed book is open")
	}
	c.Close()
}

func TestWait(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	if err := w.Wait(ctx, 0); err != nil {
		t.Fatalf("wait for 0: %v", err)
	}
	res := make(chan error, 1)
	go func() { res <- w.Wait(ctx, 5) }()
	for i := 0; i < 4; i++ {
		mustAppend(t, w, testPage(i))
		select {
		case err := <-res:
			t.Fatalf("wait for 5 returned at length %d: %v", w.Length(), err)
		case <-time.After(briefly / 3):
		}
	}
	mustAppend(t, w, testPages(4, 7)...) // jumps past 5
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(eventually):
		t.Fatal("wait did not return when the length was reached")
	}
	if err := w.Wait(ctx, 7); err != nil {
		t.Fatalf("wait for the current length: %v", err)
	}

	// cancel
	cctx, cancel := context.WithCancel(ctx)
	go func() { res <- w.Wait(cctx, 100) }()
	select {
	case err := <-res:
		t.Fatalf("wait returned early: %v", err)
	case <-time.After(briefly):
	}
	cancel()
	select {
	case err := <-res:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled wait: %v", err)
		}
	case <-time.After(eventually):
		t.Fatal("wait ignored its context")
	}
	tctx, tcancel := context.WithTimeout(ctx, briefly)
	defer tcancel()
	if err := w.Wait(tctx, 100); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait past its deadline: %v", err)
	}

	// close
	go func() { res <- w.Wait(ctx, 100) }()
	time.Sleep(briefly)
	w.Close()
	select {
	case err := <-res:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("wait on a closing book: %v", err)
		}
	case <-time.After(eventually):
		t.Fatal("wait did not return when the book closed")
	}
}

func TestWaitOnReader(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 3)...)
	res := make(chan error, 1)
	go func() { res <- r.Wait(ctx, 3) }()
	select {
	case err := <-res:
		t.Fatalf("reader's wait returned before any proof: %v", err)
	case <-time.After(briefly):
	}
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(eventually):
		t.Fatal("reader's wait did not see the verified head")
	}
}

func TestGetWaitsForAppend(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 2)...)
	type result struct {
		page []byte
		err  error
	}
	res := make(chan result, 1)
	go func() {
		p, err := w.Get(ctx, 4, nil)
		res <- result{p, err}
	}()
	mustAppend(t, w, testPage(2))
	select {
	case r := <-res:
		t.Fatalf("get of page 4 returned at length 3: %q %v", r.page, r.err)
	case <-time.After(briefly):
	}
	mustAppend(t, w, testPages(3, 6)...)
	select {
	case r := <-res:
		if r.err != nil || !bytes.Equal(r.page, testPage(4)) {
			t.Fatalf("get of page 4: %q %v", r.page, r.err)
		}
	case <-time.After(eventually):
		t.Fatal("get did not return after the append")
	}

	// many concurrent waiters for one append
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			p, err := w.Get(ctx, 6, nil)
			if err == nil && !bytes.Equal(p, []byte("six")) {
				err = errors.New("wrong page")
			}
			errs <- err
		})
	}
	time.Sleep(briefly)
	mustAppend(t, w, []byte("six"))
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// context cancel
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		p, err := w.Get(cctx, 100, nil)
		res <- result{p, err}
	}()
	time.Sleep(briefly)
	cancel()
	select {
	case r := <-res:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("cancelled get: %v", r.err)
		}
	case <-time.After(eventually):
		t.Fatal("get ignored its context")
	}

	// close while waiting
	go func() {
		p, err := w.Get(ctx, 100, nil)
		res <- result{p, err}
	}()
	time.Sleep(briefly)
	w.Close()
	select {
	case r := <-res:
		if !errors.Is(r.err, ErrClosed) {
			t.Fatalf("get on a closing book: %v", r.err)
		}
	case <-time.After(eventually):
		t.Fatal("get did not return when the book closed")
	}
}

func TestGetWaitsForReplicatedPage(t *testing.T) {
	ctx := context.Background()
	pdb := openPebble(t)
	w := newWriter(t, pdb, "w/", 1, &Options{NoSync: true})
	r := newReader(t, pdb, "r/", w.Key(), &Options{NoSync: true})
	mustAppend(t, w, testPages(0, 8)...)
	mustApply(t, r, mustProof(t, w, ProofRequest{Upgrade: &UpgradeRequest{}}))
	res := make(chan error, 1)
	go func() {
		p, err := r.Get(ctx, 6, nil) // inside the length, not stored
		if err == nil && !bytes.Equal(p, testPage(6)) {
			err = errors.New("wrong page")
		}
		res <- err
	}()
	mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 5}}))
	select {
	case err := <-res:
		t.Fatalf("get of page 6 returned after page 5 arrived: %v", err)
	case <-time.After(briefly):
	}
	mustApply(t, r, mustProof(t, w, ProofRequest{Page: &PageRequest{Index: 6}}))
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(eventually):
		t.Fatal("get did not return when the page was replicated")
	}
}
