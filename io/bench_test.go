package io

// Benchmarks of the connector (issue 5). They run only with -bench; each
// sets up real libp2p hosts on 127.0.0.1 (TCP), so they are skipped under
// -short. See BENCHMARKS.md, "Issue 5 — IO", for the commands and figures.

import (
	"context"
	"crypto/ed25519"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// benchOptions is a swarm on 127.0.0.1 TCP only, without mDNS, and with
// the default backoff (unlike loopback's quick one): the benchmarks time
// what an application with default options would see.
func benchOptions(o Options) *Options {
	o.HostOptions.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	o.DisableMDNS = true
	return &o
}

func benchNew(b *testing.B, o *Options) *Swarm {
	b.Helper()
	s, err := New(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchClose(b *testing.B, ss ...*Swarm) {
	b.Helper()
	for _, s := range ss {
		if err := s.Close(); err != nil {
			b.Errorf("close: %v", err)
		}
	}
}

// benchWaitBooted waits until s has tried its bootstrap peers and its DHT
// routing table knows at least one peer.
func benchWaitBooted(b *testing.B, s *Swarm) {
	b.Helper()
	deadline := time.Now().Add(20 * time.Second)
	<-s.booted
	for s.dht.RoutingTable().Size() == 0 {
		if time.Now().After(deadline) {
			b.Fatalf("%s: empty routing table after 20 s", s.ID().ShortString())
		}
		time.Sleep(time.Millisecond)
	}
}

// benchPercentile is the q-quantile (0..1) of sorted samples, nearest
// rank.
func benchPercentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func benchReportLatency(b *testing.B, samples []time.Duration, scale time.Duration, unit string) {
	s := slices.Clone(samples)
	slices.Sort(s)
	b.ReportMetric(float64(benchPercentile(s, 0.50))/float64(scale), "p50-"+unit)
	b.ReportMetric(float64(benchPercentile(s, 0.99))/float64(scale), "p99-"+unit)
	b.ReportMetric(float64(s[len(s)-1])/float64(scale), "max-"+unit)
}

// BenchmarkJoinToHandshake: per iteration, two fresh swarms (DHT servers
// bootstrapped from one shared bootstrap swarm) join a fresh random topic
// at the same instant; timed from the Join calls to the client's
// Handshaken event naming the topic (its own clock at the event).
//
// Sub-benchmarks:
//
//   - both: each joins as server and client (JoinOptions{}); timed until b
//     hears the handshake with a.
//   - server-client: a joins as server only, b as client only; timed until
//     b (the client) hears the handshake with a.
//
// and, for each,
//
//   - booted: Join once both swarms' DHT bootstrap finished (routing table
//     not empty), so only announce + lookup + dial + handshake is timed;
//   - cold: Join right after New returns, so the bootstrap dial and DHT
//     bootstrap are inside the timing too.
//
// Building the swarms (New: key, host, listen, DHT) and closing them are
// never timed. With -v each run logs its samples (samples-ms), so that
// runs can be pooled.
func BenchmarkJoinToHandshake(b *testing.B) {
	if testing.Short() {
		b.Skip("libp2p hosts; skipped under -short")
	}
	boot := benchNew(b, benchOptions(Options{DHTServer: true}))
	defer benchClose(b, boot)
	bootInfo := []peer.AddrInfo{addrInfo(boot)}

	for _, mode := range []struct {
		name         string
		joinA, joinB JoinOptions
	}{
		{"both", JoinOptions{}, JoinOptions{}},
		{"server-client", JoinOptions{Server: true}, JoinOptions{Client: true}},
	} {
		for _, cold := range []bool{false, true} {
			name := mode.name + "/booted"
			if cold {
				name = mode.name + "/cold"
			}
			b.Run(name, func(b *testing.B) {
				var samples []time.Duration
				var late int
				for b.Loop() {
					b.StopTimer()
					topic := randomTopic()
					done := make(chan time.Time, 1)
					var aID peer.ID
					ready := make(chan struct{})
					lb := &EventListener{Handshaken: func(h Handshake) {
						<-ready
						if h.Remote == aID && namesTopic(h, topic) {
							select {
							case done <- time.Now():
							default:
							}
						}
					}}
					a := benchNew(b, benchOptions(Options{DHTServer: true, BootstrapPeers: bootInfo}))
					bs := benchNew(b, benchOptions(Options{DHTServer: true, BootstrapPeers: bootInfo, Listener: lb}))
					aID = a.ID()
					close(ready)
					if !cold {
						benchWaitBooted(b, a)
						benchWaitBooted(b, bs)
					}
					b.StartTimer()

					start := time.Now()
					if err := a.Join(topic, mode.joinA); err != nil {
						b.Fatal(err)
					}
					if err := bs.Join(topic, mode.joinB); err != nil {
						b.Fatal(err)
					}
					var at time.Time
					select {
					case at = <-done:
					case <-time.After(60 * time.Second):
						b.Fatalf("no handshake naming the topic within 60 s")
					}

					b.StopTimer()
					samples = append(samples, at.Sub(start))
					if at.Sub(start) > 900*time.Millisecond {
						late++ // the first lookup missed; a later round found it
					}
					benchClose(b, a, bs)
					b.StartTimer()
				}
				if testing.Verbose() {
					ms := make([]string, len(samples))
					for i, d := range samples {
						ms[i] = strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64)
					}
					b.Logf("samples-ms %s", strings.Join(ms, " "))
				}
				benchReportLatency(b, samples, time.Millisecond, "ms")
				b.ReportMetric(float64(late)/float64(len(samples)), "over-0.9s-frac")
			})
		}
	}
}

func benchOffer(keys ...ed25519.PublicKey) func(peer.ID) []ed25519.PublicKey {
	return func(peer.ID) []ed25519.PublicKey { return keys }
}

// BenchmarkHandshakeRoundTrip: two swarms already connected (no DHT, no
// topics); each iteration is one a.Handshake(ctx, b): a new stream, one
// Hello each way, proofs built and checked. Each side offers 4 books, 3 of
// them shared.
func BenchmarkHandshakeRoundTrip(b *testing.B) {
	if testing.Short() {
		b.Skip("libp2p hosts; skipped under -short")
	}
	shared := []ed25519.PublicKey{randomKey(), randomKey(), randomKey()}
	a := benchNew(b, benchOptions(Options{DisableDHT: true, Offer: benchOffer(append(slices.Clone(shared), randomKey())...)}))
	bs := benchNew(b, benchOptions(Options{DisableDHT: true, Offer: benchOffer(append(slices.Clone(shared), randomKey())...)}))
	defer benchClose(b, a, bs)
	ctx := context.Background()
	if err := a.Host().Connect(ctx, addrInfo(bs)); err != nil {
		b.Fatal(err)
	}
	// The first handshake opens the connection's muxer paths and the
	// protocol negotiation caches; it is not timed.
	if _, err := a.Handshake(ctx, bs.ID()); err != nil {
		b.Fatal(err)
	}
	samples := make([]time.Duration, 0, 4096)
	for b.Loop() {
		t0 := time.Now()
		h, err := a.Handshake(ctx, bs.ID())
		samples = append(samples, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if len(h.Shared) != len(shared) {
			b.Fatalf("shared %d books, want %d", len(h.Shared), len(shared))
		}
	}
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	b.ReportMetric(float64(sum)/float64(len(samples))/1e3, "µs/op")
	benchReportLatency(b, samples, time.Microsecond, "µs")
}

// BenchmarkHundredTopics: a DHT of three swarms (a bootstrap and two DHT
// servers). One of them, j, joins 100 random topics as server and client
// and Flushes; reported: the time to Join all and Flush, j's connections,
// connected peers, the goroutines, heap (HeapInuse after GC) and
// goroutine stacks (StackInuse) added by the 100 topics, measured once
// Flush returned, and the handshakes j heard.
//
//   - alone: nobody else joined those topics;
//   - shared: the other server joined all 100 first (and flushed), so j
//     finds it under every topic.
func BenchmarkHundredTopics(b *testing.B) {
	if testing.Short() {
		b.Skip("libp2p hosts; skipped under -short")
	}
	const topics = 100
	for _, shared := range []bool{false, true} {
		name := "alone"
		if shared {
			name = "shared"
		}
		b.Run(name, func(b *testing.B) {
			var conns, peers, gors, heap, stack, hands, flushSec float64
			for b.Loop() {
				b.StopTimer()
				boot := benchNew(b, benchOptions(Options{DHTServer: true}))
				bootInfo := []peer.AddrInfo{addrInfo(boot)}
				other := benchNew(b, benchOptions(Options{DHTServer: true, BootstrapPeers: bootInfo}))
				var handshakes atomic.Int64
				j := benchNew(b, benchOptions(Options{DHTServer: true, BootstrapPeers: bootInfo, Listener: &EventListener{
					Handshaken: func(Handshake) { handshakes.Add(1) },
				}}))
				benchWaitBooted(b, other)
				benchWaitBooted(b, j)
				keys := make([][]byte, topics)
				for i := range keys {
					keys[i] = randomTopic()
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				if shared {
					for _, k := range keys {
						if err := other.Join(k, JoinOptions{}); err != nil {
							b.Fatal(err)
						}
					}
					if err := other.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
				// Let the DHT's own start-up work settle before the baseline.
				time.Sleep(500 * time.Millisecond)
				g0, h0, s0 := benchGoroutinesHeap()

				b.StartTimer()
				t0 := time.Now()
				for _, k := range keys {
					if err := j.Join(k, JoinOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				if err := j.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				el := time.Since(t0)
				b.StopTimer()

				g1, h1, s1 := benchGoroutinesHeap()
				hands += float64(handshakes.Load())
				conns += float64(len(j.Host().Network().Conns()))
				peers += float64(len(j.Host().Network().Peers()))
				gors += float64(g1 - g0)
				heap += float64(int64(h1) - int64(h0))
				stack += float64(int64(s1) - int64(s0))
				flushSec += el.Seconds()
				cancel()
				benchClose(b, j, other, boot)
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(flushSec/n, "join+flush-s")
			b.ReportMetric(conns/n, "conns")
			b.ReportMetric(peers/n, "peers")
			b.ReportMetric(gors/n, "goroutines-added")
			b.ReportMetric(heap/n/1024, "heap-KiB-added")
			b.ReportMetric(heap/n/topics, "heap-B/topic")
			b.ReportMetric(stack/n/1024, "stack-KiB-added")
			b.ReportMetric(hands/n, "handshakes")
		})
	}
}

// benchGoroutinesHeap is the goroutine count, HeapInuse and StackInuse
// after two collections.
func benchGoroutinesHeap() (int, uint64, uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapInuse, ms.StackInuse
}
