package book

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func TestAppendAsyncOrderAndTree(t *testing.T) {
	// Many async appends in flight at once commit in call order: the book
	// ends as sequential appends of the same batches would leave it.
	ctx := context.Background()
	b := newWriter(t, openPebble(t), "w/", 3, &Options{NoSync: true})
	var all [][]byte
	var pending []*PendingAppend
	for i := range 40 {
		batch := testPages(len(all), len(all)+1+i%7)
		all = append(all, batch...)
		pending = append(pending, b.AppendAsync(ctx, AppendOptions{}, batch...))
	}
	var prev uint64
	for i, p := range pending {
		res, err := p.Wait(ctx)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if res.Length <= prev {
			t.Fatalf("append %d ended at length %d, the one before at %d", i, res.Length, prev)
		}
		prev = res.Length
	}
	if prev != uint64(len(all)) || b.Length() != prev {
		t.Fatalf("length %d (last result %d), want %d", b.Length(), prev, len(all))
	}
	if mustHead(t, b).TreeHash != TreeHash(scratchRoots(all)) {
		t.Fatal("tree after async appends differs from scratch")
	}
	for i, want := range all {
		got, err := b.Get(ctx, uint64(i), &GetOptions{LocalOnly: true})
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("page %d: %q, %v", i, got, err)
		}
	}
	mustAudit(t, b)
}

func TestAppendAsyncFailureStopsLaterOnes(t *testing.T) {
	// A bad batch fails at once; a batch whose ctx ends fails, and so does
	// every async append made behind it before its failure was read, all
	// writing nothing; once read, the next call goes ahead.
	ctx := context.Background()
	b := newWriter(t, openPebble(t), "w/", 4, &Options{NoSync: true, MaxPageSize: 64})
	if _, err := b.AppendAsync(ctx, AppendOptions{}, make([]byte, 65)).Wait(ctx); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize page: %v", err)
	}
	mustAppend(t, b, testPage(0))
	gone, cancel := context.WithCancel(ctx)
	cancel()
	failed := b.AppendAsync(gone, AppendOptions{}, testPage(1))
	behind := b.AppendAsync(ctx, AppendOptions{}, testPage(2))
	if _, err := failed.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with a done ctx: %v", err)
	}
	if _, err := behind.Wait(ctx); !errors.Is(err, ErrAsyncFailed) {
		t.Fatalf("append behind a failed one: %v", err)
	}
	// Until the failure has been read, later calls fail too.
	failed2 := b.AppendAsync(gone, AppendOptions{}, testPage(1))
	<-failed2.Done()
	if _, err := b.AppendAsync(ctx, AppendOptions{}, testPage(1)).Wait(ctx); !errors.Is(err, ErrAsyncFailed) {
		t.Fatalf("append after an unread failure: %v", err)
	}
	if _, err := failed2.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("second append with a done ctx: %v", err)
	}
	if b.Length() != 1 {
		t.Fatalf("length %d after failed async appends, want 1", b.Length())
	}
	res, err := b.AppendAsync(ctx, AppendOptions{}, testPage(1)).Wait(ctx)
	if err != nil || res.Length != 2 {
		t.Fatalf("append after the failures: %+v, %v", res, err)
	}
	mustAudit(t, b)
}

func TestAppendWaitsForEarlierAsync(t *testing.T) {
	// A synchronous Append after AppendAsync, from the same goroutine,
	// lands after it.
	ctx := context.Background()
	b := newWriter(t, openPebble(t), "w/", 5, &Options{NoSync: true})
	for round := range 20 {
		n := b.Length()
		p := b.AppendAsync(ctx, AppendOptions{}, testPages(int(n), int(n)+50)...)
		res := mustAppend(t, b, testPage(int(n)+50))
		if res.Length != n+51 {
			t.Fatalf("round %d: Append ended at %d, want %d", round, res.Length, n+51)
		}
		if r, err := p.Wait(ctx); err != nil || r.Length != n+50 {
			t.Fatalf("round %d: async append %+v, %v", round, r, err)
		}
	}
	if mustHead(t, b).TreeHash != TreeHash(scratchRoots(testPages(0, 20*51))) {
		t.Fatal("tree differs from scratch")
	}
}

func TestAppendAsyncClose(t *testing.T) {
	// Close waits for pending async appends; those not yet committed fail
	// with ErrClosed, and whatever committed is a prefix of the calls.
	ctx := context.Background()
	pdb := openPebble(t)
	pk, sk := seedKey(6)
	b, err := Open(pdb, []byte("w/"), pk, sk, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var pending []*PendingAppend
	for i := range 30 {
		pending = append(pending, b.AppendAsync(ctx, AppendOptions{}, testPages(i*100, i*100+100)...))
	}
	b.Close()
	committed := 0
	for i, p := range pending {
		select {
		case <-p.Done():
		default:
			t.Fatalf("append %d still pending after Close", i)
		}
		_, err := p.Wait(ctx)
		switch {
		case err == nil && committed == i:
			committed++
		case errors.Is(err, ErrClosed) || errors.Is(err, ErrAsyncFailed):
		default:
			t.Fatalf("append %d after %d committed: %v", i, committed, err)
		}
	}
	b2, err := Open(pdb, []byte("w/"), pk, sk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if b2.Length() != uint64(committed*100) {
		t.Fatalf("reopened length %d, %d appends committed", b2.Length(), committed)
	}
	mustAudit(t, b2)
	t.Logf("%d of 30 committed before Close", committed)
}

func TestAppendBehindAsyncHonoursContext(t *testing.T) {
	// An Append waiting for an earlier async append returns when its ctx
	// ends, writing nothing; the async append still commits.
	b := newWriter(t, openPebble(t), "w/", 8, &Options{NoSync: true})
	b.mu.Lock() // the async append cannot commit until released
	p := b.AppendAsync(context.Background(), AppendOptions{}, testPages(0, 10)...)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Append(ctx, testPage(10))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // (so that Append is waiting, not at its first check)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Append behind a pending async append: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		b.mu.Unlock()
		t.Fatal("Append ignored its cancelled context while an async append was pending")
	}
	b.mu.Unlock()
	if r, err := p.Wait(context.Background()); err != nil || r.Length != 10 {
		t.Fatalf("async append: %+v, %v", r, err)
	}
	if b.Length() != 10 {
		t.Fatalf("length %d, want 10: the cancelled Append wrote", b.Length())
	}
}
