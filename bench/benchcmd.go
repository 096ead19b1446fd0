package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// BenchCommand runs `folio bench <shape> [flags]` and returns the exit code:
// 0 success, 1 runtime failure, 2 usage error.
func BenchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && PeerBenchShapes[args[0]] != "" {
		return peerBenchCommand(ctx, args[0], args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c BenchConfig
	fs.IntVar(&c.Pages, "pages", 0, "pages to append or read (default 100000; 10000 for single appends; 2000 with --sync)")
	fs.IntVar(&c.Size, "size", 1024, "page size in bytes")
	fs.IntVar(&c.Batch, "batch", 1000, "pages per append (append-batch)")
	fs.IntVar(&c.Books, "books", 10000, "books in the DB (open-books)")
	fs.BoolVar(&c.Sync, "sync", false, "sync every append")
	fs.IntVar(&c.CacheMB, "cache-mb", 0, "the DB's block cache in MiB (default: db's default, 256)")
	fs.IntVar(&c.MemTableMB, "memtable-mb", 0, "append benchmarks: the DB's memtable size in MiB, for folio and its baseline (default: db's default, 64)")
	fs.IntVar(&c.MemTableStopWrites, "memtable-stop", 0, "append benchmarks: memtables that may wait to flush before writes stall (default: db's default, 2)")
	fs.BoolVar(&c.NoPacing, "no-pacing", false, "append benchmarks: turn the DB's write pacing off (db.Options.NoWritePacing)")
	fs.BoolVar(&c.Async, "async", false, "append-batch: append with AppendAsync, starting each batch before the last one's result")
	fs.StringVar(&c.Dir, "dir", "", "directory for the DB (default: a temporary one, removed after)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "replicate: write a CPU profile of the timed download alone to this file (the last run's)")
	runs := fs.Int("runs", 1, "repeat the run this many times; with more than one, also print the median")
	asJSON := fs.Bool("json", false, "print one JSON object per run")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: folio bench <shape> [flags]\n\nshapes:\n")
		names := make([]string, 0, len(BenchShapes))
		for n := range BenchShapes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-14s %s\n", n, BenchShapes[n])
		}
		for _, n := range []string{"group", "tasks"} {
			fmt.Fprintf(stderr, "  %-14s %s (its own flags: folio bench %s --help)\n", n, PeerBenchShapes[n], n)
		}
		fmt.Fprintf(stderr, "\nflags:\n")
		fs.PrintDefaults()
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := fs.Parse(args); err == flag.ErrHelp {
			return 0
		}
		fs.Usage()
		return 2
	}
	c.Shape = args[0]
	if err := fs.Parse(args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if _, ok := BenchShapes[c.Shape]; !ok || fs.NArg() > 0 || *runs < 1 {
		fmt.Fprintf(stderr, "folio bench: unknown shape %q or stray arguments (see folio bench --help)\n", c.Shape)
		return 2
	}
	var results []*BenchResult
	for i := 0; i < *runs; i++ {
		cfg := c
		if c.Dir != "" && *runs > 1 {
			cfg.Dir = fmt.Sprintf("%s/run-%d", c.Dir, i)
		}
		r, err := Bench(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "folio bench %s: %v\n", c.Shape, err)
			return 1
		}
		results = append(results, r)
		printResult(stdout, r, *asJSON, "")
	}
	if len(results) > 1 {
		printResult(stdout, median(results), *asJSON, "median")
	}
	return 0
}

func printResult(w io.Writer, r *BenchResult, asJSON bool, label string) {
	if asJSON {
		if label != "" {
			out, _ := json.Marshal(struct {
				Median *BenchResult `json:"median"`
			}{r})
			fmt.Fprintln(w, string(out))
			return
		}
		out, _ := json.Marshal(r)
		fmt.Fprintln(w, string(out))
		return
	}
	if label != "" {
		label += " "
	}
	fmt.Fprintf(w, "%s%-14s pages=%d size=%d batch=%d sync=%v  %.0f pages/s  %.1f MB/s  %.0f ops/s  p50=%.1fµs p99=%.1fµs  (%.2fs)",
		label, r.Shape, r.Pages, r.Size, r.Batch, r.Sync, r.PagesPerSec, r.MBPerSec, r.OpsPerSec, r.P50us, r.P99us, r.Seconds)
	if r.Baseline > 0 {
		fmt.Fprintf(w, "  raw Pebble %.0f pages/s, ratio %.2f", r.Baseline, r.Ratio)
		fmt.Fprintf(w, " (p50=%.1fµs p99=%.1fµs); write stalls %d (%.0f ms), raw Pebble %d (%.0f ms)",
			r.BaselineP50us, r.BaselineP99us, r.Stalls, r.StallMs, r.BaselineStalls, r.BaselineStallMs)
		if r.PacedAppends > 0 {
			fmt.Fprintf(w, "; paced %d appends (%.0f ms)", r.PacedAppends, r.PacedMs)
		}
	}
	if r.BaselineMB > 0 {
		fmt.Fprintf(w, "  raw stream %.1f MB/s, ratio %.2f", r.BaselineMB, r.Ratio)
	}
	fmt.Fprintln(w)
}

// median returns the run with the median pages/s (by rate).
func median(rs []*BenchResult) *BenchResult {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b *BenchResult) int {
		switch {
		case a.PagesPerSec < b.PagesPerSec:
			return -1
		case a.PagesPerSec > b.PagesPerSec:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}
