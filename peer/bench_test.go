package peer

// Benchmarks of the messenger on the vault (issue 6). They run only with
// -bench; each opens real vaults (Pebble on disk, synced appends, libp2p on
// 127.0.0.1 TCP, no DHT or mDNS, as testOptions), so they are skipped under
// -short. See BENCHMARKS.md, "Issue 6 — vault and peer".

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// benchText is message i: about 60 bytes, like a short chat line.
func benchText(i int) string {
	return fmt.Sprintf("message %06d: the quick brown fox jumps over the dog", i)
}

// benchPair opens bob and ana in fresh directories, bob creates a task and
// invites ana, ana joins, and both timelines show the task update and the
// join. Both peers close with b.
func benchPair(b *testing.B) (bob, ana *Peer, anaDir string, task TaskID) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	anaDir = b.TempDir()
	bob = openPeer(b, b.TempDir(), "bob")
	ana = openPeer(b, anaDir, "ana")
	task, err := bob.CreateTask(ctx, "bench", TaskID{})
	if err != nil {
		b.Fatal(err)
	}
	code, err := bob.Invite(ctx, task)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ana.Join(ctx, code); err != nil {
		b.Fatal(err)
	}
	benchWaitNewest(b, ana, task, bob.ID(), 2, 30*time.Second)
	benchWaitNewest(b, bob, task, bob.ID(), 2, 30*time.Second)
	return bob, ana, anaDir, task
}

// benchNewest is the head of the newest message in p's timeline of task.
func benchNewest(b *testing.B, p *Peer, task TaskID) (Head, bool) {
	ms, err := p.Timeline(context.Background(), task, &TimelineOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	if len(ms) == 0 {
		return Head{}, false
	}
	return ms[0].Head, true
}

// benchWaitNewest waits until the newest message of p's timeline of task
// is author's message at index (or later). The watcher reads each log in
// order and the timeline shows only what it read, so every older message
// is there too.
func benchWaitNewest(b *testing.B, p *Peer, task TaskID, author peer.ID, index uint64, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if h, ok := benchNewest(b, p, task); ok && h.Author == author && h.Index >= index {
			return
		}
		if time.Now().After(deadline) {
			h, _ := benchNewest(b, p, task)
			b.Fatalf("%s: newest message %s, want %s/%d within %v", p.ID().ShortString(), h, author, index, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

func benchPercentile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func benchReportLatency(b *testing.B, samples []time.Duration, prefix string) {
	s := slices.Clone(samples)
	slices.Sort(s)
	b.ReportMetric(float64(benchPercentile(s, 0.50))/1e3, prefix+"p50-µs")
	b.ReportMetric(float64(benchPercentile(s, 0.99))/1e3, prefix+"p99-µs")
	b.ReportMetric(float64(s[len(s)-1])/1e3, prefix+"max-µs")
}

// BenchmarkSendToDelivered: bob and ana share a task, ana holds a live
// Subscription. Each iteration is one bob.Send and the wait until the
// message comes out of ana's Subscription.C: a synced append to bob's
// book for ana, the replication notification and page to ana, her
// watcher's read and the subscription's hand-off. Reported: p50/p99/max of
// that, and of bob's Send call alone (send-).
func BenchmarkSendToDelivered(b *testing.B) {
	if testing.Short() {
		b.Skip("opens vaults and libp2p hosts; skipped under -short")
	}
	ctx := context.Background()
	bob, ana, _, task := benchPair(b)
	sub, err := ana.Subscribe(task)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	deliver := func(i int) (send, total time.Duration) {
		t0 := time.Now()
		h, err := bob.Send(ctx, task, benchText(i))
		send = time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		timeout := time.After(30 * time.Second)
		for {
			select {
			case m, ok := <-sub.C:
				if !ok {
					b.Fatal("subscription closed")
				}
				if m.Head.Author == h.Author && m.Head.Index == h.Index {
					return send, time.Since(t0)
				}
			case <-timeout:
				b.Fatalf("message %s not delivered within 30 s", h)
			}
		}
	}
	for i := range 20 { // warm-up, not timed
		deliver(-1 - i)
	}
	var samples, sends []time.Duration
	i := 0
	for b.Loop() {
		s, t := deliver(i)
		sends = append(sends, s)
		samples = append(samples, t)
		i++
	}
	benchReportLatency(b, samples, "")
	benchReportLatency(b, sends, "send-")
}

// benchAppendTexts writes count text messages from p into task, batch
// messages per book append. It does what send does for each message — the
// same envelope (head at the next index, REF_SEEN of every other author's
// newest message, TYPE_TEXT, meta with the wall clock, the next Lamport
// clock and the task), at the same index in every book p writes for the
// task, under sendMu, then the watcher's scan — except that it appends
// batch envelopes in one Append (one synced Pebble batch, one signature)
// instead of one each. The pair books must exist (the task has another
// member).
func benchAppendTexts(b *testing.B, p *Peer, task TaskID, first, count, batch int) {
	b.Helper()
	ctx := context.Background()
	for done := 0; done < count; {
		k := min(batch, count-done)
		p.sendMu.Lock()
		p.mu.Lock()
		r := p.roots[p.rootOf(task)]
		n, _ := p.myLog(r)
		clock := r.maxClock + 1
		authors := make([]string, 0, len(r.logs))
		for a := range r.logs {
			authors = append(authors, string(a))
		}
		sort.Strings(authors)
		var refs []*pb.Ref
		for _, a := range authors {
			if l := r.logs[peerID(a)]; peerID(a) != p.me && l.next > 1 {
				refs = append(refs, &pb.Ref{Kind: pb.RefKind_REF_SEEN, Head: &pb.Head{Author: []byte(a), Index: l.next - 1}})
			}
		}
		mine := r.myBooks
		p.mu.Unlock()
		if len(mine) == 0 {
			p.sendMu.Unlock()
			b.Fatal("benchAppendTexts: no pair book (the task needs another member)")
		}
		pages := make([][]byte, k)
		for i := range k {
			env := &pb.Envelope{
				Head: &pb.Head{Author: []byte(p.me), Index: n + uint64(i)},
				Refs: refs, Type: pb.Type_TYPE_TEXT, Data: []byte(benchText(first + done + i)),
				Meta: &pb.Meta{Time: p.o.Now().UnixMilli(), Clock: clock + uint64(i), Task: task[:]},
			}
			page, err := proto.Marshal(env)
			if err != nil {
				p.sendMu.Unlock()
				b.Fatal(err)
			}
			pages[i] = page
		}
		for reader, bk := range mine {
			if bk.Length() != n {
				p.sendMu.Unlock()
				b.Fatalf("book for %s has %d pages, want %d", reader, bk.Length(), n)
			}
			if _, err := bk.Append(ctx, pages...); err != nil {
				p.sendMu.Unlock()
				b.Fatal(err)
			}
		}
		p.scan()
		p.sendMu.Unlock()
		done += k
	}
}

// benchCheckEnvelopes checks that page i-1 (written by Send) and page i
// (written by benchAppendTexts) of p's log for task differ only where two
// consecutive sends differ: index, clock, time and text.
func benchCheckEnvelopes(b *testing.B, p *Peer, task TaskID, i uint64) {
	b.Helper()
	p.mu.Lock()
	_, get := p.myLog(p.roots[p.rootOf(task)])
	p.mu.Unlock()
	var env [2]*pb.Envelope
	for k := range env {
		page, err := get(context.Background(), i-1+uint64(k))
		if err != nil {
			b.Fatal(err)
		}
		if env[k], err = decode(p.me, i-1+uint64(k), page); err != nil {
			b.Fatal(err)
		}
	}
	s, m := env[0], env[1]
	if s.Type != m.Type || m.Meta.Clock != s.Meta.Clock+1 || string(s.Meta.Task) != string(m.Meta.Task) ||
		len(s.Refs) != len(m.Refs) || m.Meta.Time < s.Meta.Time || !strings.HasPrefix(string(m.Data), "message ") {
		b.Fatalf("batched envelope differs from Send's:\nsend  %v\nbatch %v", s, m)
	}
}

// BenchmarkTimelineNewestPage100k: a task whose author (bob) wrote 100,000
// text messages to its other member (ana); each iteration is one
// Timeline(ctx, task, &TimelineOptions{Limit: 50}) — the newest page —
// at the author (author) and at the reader once replication and her
// watcher have caught up (reader); and one older page, 50,000 messages
// back, with Before (author-before-50k). The first 1,000 messages are written
// with Send (their rate is reported as send-msg/s), the other 99,000 with
// benchAppendTexts in appends of 1,000 (see there; build-msg/s), which is
// what makes building the task take seconds rather than a minute. The task
// is built once per benchmark run and shared by both sub-benchmarks and
// every -count.
func BenchmarkTimelineNewestPage100k(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a task of 100,000 messages; skipped under -short")
	}
	const total, viaSend = 100_000, 1_000
	ctx := context.Background()
	bob, ana, _, task := benchPair(b)
	t0 := time.Now()
	for i := range viaSend {
		if _, err := bob.Send(ctx, task, benchText(i)); err != nil {
			b.Fatal(err)
		}
	}
	sendRate := viaSend / time.Since(t0).Seconds()
	n, _ := benchNewest(b, bob, task)
	t1 := time.Now()
	benchAppendTexts(b, bob, task, viaSend, total-viaSend, 1000)
	batchRate := (total - viaSend) / time.Since(t1).Seconds()
	benchCheckEnvelopes(b, bob, task, n.Index+1)
	last := n.Index + total - viaSend // task update, join, 100,000 texts
	benchWaitNewest(b, bob, task, bob.ID(), last, 10*time.Second)
	// ana replicates while bob writes; lag is how long after bob's last
	// append her timeline still lacked it.
	t2 := time.Now()
	benchWaitNewest(b, ana, task, bob.ID(), last, 5*time.Minute)
	lag := time.Since(t2)

	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/op")
		b.ReportMetric(sendRate, "send-msg/s")
		b.ReportMetric(batchRate, "build-msg/s")
		b.ReportMetric(lag.Seconds(), "reader-lag-s")
	}
	for _, side := range []struct {
		name string
		p    *Peer
	}{{"author", bob}, {"reader", ana}} {
		b.Run(side.name, func(b *testing.B) {
			var ms []*Message
			for b.Loop() {
				var err error
				ms, err = side.p.Timeline(ctx, task, &TimelineOptions{Limit: 50})
				if err != nil {
					b.Fatal(err)
				}
			}
			if len(ms) != 50 || ms[49].Head.Index != last || ms[49].Text != benchText(total-1) || ms[0].Err != nil {
				b.Fatalf("newest page: %d messages, last %v %q", len(ms), ms[len(ms)-1].Head, ms[len(ms)-1].Text)
			}
			report(b)
		})
	}
	// An older page: the 50 messages before the one 50,000 from the
	// newest (paging back with Before), at the author.
	b.Run("author-before-50k", func(b *testing.B) {
		at := last - 50_000
		bob.mu.Lock()
		_, get := bob.myLog(bob.roots[task])
		bob.mu.Unlock()
		page, err := get(ctx, at)
		if err != nil {
			b.Fatal(err)
		}
		env, err := decode(bob.ID(), at, page)
		if err != nil {
			b.Fatal(err)
		}
		before := &Cursor{Clock: env.Meta.Clock, Author: bob.ID(), Index: at}
		var ms []*Message
		for b.Loop() {
			ms, err = bob.Timeline(ctx, task, &TimelineOptions{Limit: 50, Before: before})
			if err != nil {
				b.Fatal(err)
			}
		}
		if len(ms) != 50 || ms[49].Head.Index != at-1 || ms[0].Err != nil {
			b.Fatalf("older page: %d messages, last %v", len(ms), ms[len(ms)-1].Head)
		}
		report(b)
	})
}

// BenchmarkCatchUp10k: bob and ana share a task; ana closes; bob writes
// 10,000 messages with Send (untimed); timed from ana's Open (the same
// directory) until her timeline's newest message is bob's last, i.e. all
// 10,000 are there (checked afterwards with one Timeline of them all).
// This includes opening the vault (DB, peerstore, host), redialing bob,
// the handshake, replication and her watcher reading every page (open-ms
// is the Open call alone). A fresh pair per iteration.
func BenchmarkCatchUp10k(b *testing.B) {
	if testing.Short() {
		b.Skip("writes 10,000 messages per iteration; skipped under -short")
	}
	const count = 10_000
	ctx := context.Background()
	var secs, opens []float64
	var sendRates []float64
	for b.Loop() {
		b.StopTimer()
		bob, ana, anaDir, task := benchPair(b)
		if err := ana.Close(); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		var h Head
		for i := range count {
			var err error
			if h, err = bob.Send(ctx, task, benchText(i)); err != nil {
				b.Fatal(err)
			}
		}
		sendRates = append(sendRates, count/time.Since(t0).Seconds())
		b.StartTimer()

		start := time.Now()
		ana2, err := Open(ctx, anaDir, testOptions(""))
		if err != nil {
			b.Fatal(err)
		}
		opens = append(opens, time.Since(start).Seconds())
		benchWaitNewest(b, ana2, task, bob.ID(), h.Index, 5*time.Minute)
		el := time.Since(start)

		b.StopTimer()
		secs = append(secs, el.Seconds())
		ms, err := ana2.Timeline(ctx, task, &TimelineOptions{Limit: count + 10})
		if err != nil {
			b.Fatal(err)
		}
		if len(ms) != count+2 {
			b.Fatalf("ana's timeline has %d messages, want %d", len(ms), count+2)
		}
		ana2.Close()
		bob.Close()
		b.StartTimer()
	}
	s := slices.Clone(secs)
	slices.Sort(s)
	med := s[len(s)/2]
	b.ReportMetric(med, "median-s")
	b.ReportMetric(count/med, "msg/s")
	slices.Sort(sendRates)
	b.ReportMetric(sendRates[len(sendRates)/2], "send-msg/s")
	slices.Sort(opens)
	b.ReportMetric(opens[len(opens)/2]*1e3, "open-ms")
}
