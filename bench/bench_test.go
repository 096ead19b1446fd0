package bench

import (
	"context"
	"os"
	"testing"
)

// The Go benchmarks run the same shapes as `folio bench`, with b.N pages
// (or gets, or proofs), so `go test -bench` and the CLI agree.
func benchShape(b *testing.B, c BenchConfig) {
	b.Helper()
	c.Pages = max(b.N, 1)
	if c.Shape == "append-batch" && c.Pages < c.Batch {
		c.Pages = c.Batch
	}
	c.Dir = b.TempDir() + "/db"
	b.ResetTimer()
	r, err := Bench(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.PagesPerSec, "pages/s")
	b.ReportMetric(r.MBPerSec, "MB/s")
	if r.P99us > 0 {
		b.ReportMetric(r.P50us, "p50-µs")
		b.ReportMetric(r.P99us, "p99-µs")
	}
}

func BenchmarkAppendSingle(b *testing.B) { benchShape(b, BenchConfig{Shape: "append-single"}) }
func BenchmarkAppendBatch(b *testing.B) {
	benchShape(b, BenchConfig{Shape: "append-batch", Batch: 1000})
}
func BenchmarkAppendSingleSync(b *testing.B) {
	benchShape(b, BenchConfig{Shape: "append-single", Sync: true})
}
func BenchmarkPebbleSync(b *testing.B) { benchShape(b, BenchConfig{Shape: "pebble-sync", Sync: true}) }
func BenchmarkGetRandom(b *testing.B)  { benchShape(b, BenchConfig{Shape: "get-random"}) }
func BenchmarkProofVerify(b *testing.B) {
	benchShape(b, BenchConfig{Shape: "proof-verify"})
}

func BenchmarkReplicate(b *testing.B) { benchShape(b, BenchConfig{Shape: "replicate"}) }
func BenchmarkNotify(b *testing.B)    { benchShape(b, BenchConfig{Shape: "notify"}) }

func TestBenchShapesRun(t *testing.T) {
	// Every shape runs end to end on a small size and reports sane figures.
	for shape := range BenchShapes {
		c := BenchConfig{Shape: shape, Pages: 2000, Batch: 100, Books: 50, Dir: t.TempDir() + "/db"}
		if shape == "notify" {
			c.Pages = 100 // one append every 2 ms
		}
		r, err := Bench(context.Background(), c)
		if err != nil {
			t.Fatalf("%s: %v", shape, err)
		}
		if r.Ops == 0 || r.Seconds <= 0 || r.PagesPerSec <= 0 || r.Shape != shape {
			t.Fatalf("%s: implausible result %+v", shape, r)
		}
		// The shapes with a baseline measure it in the same run.
		if (shape == "append-batch" && r.Baseline <= 0) || (shape == "replicate" && r.BaselineMB <= 0) || r.Ratio < 0 ||
			((shape == "append-batch" || shape == "replicate") && r.Ratio == 0) {
			t.Fatalf("%s: no baseline in %+v", shape, r)
		}
	}
}

func TestBenchAppendAsync(t *testing.T) {
	// --async appends every batch (one latency each) and takes its rate
	// from the run's time, with the baseline beside it.
	c := BenchConfig{Shape: "append-batch", Async: true, Pages: 5000, Batch: 100, Dir: t.TempDir() + "/db"}
	r, err := Bench(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Async || r.Ops != 50 || r.Seconds <= 0 || r.PagesPerSec <= 0 || r.Baseline <= 0 || r.Ratio <= 0 || r.P99us <= 0 {
		t.Fatalf("implausible result %+v", r)
	}
	if got := r.Ratio * r.Baseline; got < r.PagesPerSec*0.999 || got > r.PagesPerSec*1.001 {
		t.Fatalf("ratio %v does not match %v / %v", r.Ratio, r.PagesPerSec, r.Baseline)
	}
}

func TestBenchReplicateProfile(t *testing.T) {
	// --cpuprofile writes a profile of the download: a gzipped pprof file.
	prof := t.TempDir() + "/cpu.prof"
	c := BenchConfig{Shape: "replicate", Pages: 2000, Dir: t.TempDir() + "/db", CPUProfile: prof}
	if _, err := Bench(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile of %d bytes is not a gzipped pprof file", len(b))
	}
}
