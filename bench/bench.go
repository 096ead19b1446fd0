package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
)

// BenchConfig describes one benchmark run.
type BenchConfig struct {
	Shape string // one of BenchShapes
	Pages int    // pages appended (or read); default 100,000 (10,000 for single appends)
	Size  int    // page size in bytes; default 1024
	Batch int    // pages per append for append-batch; default 1000
	Sync  bool   // sync every append (default off)
	// Async makes append-batch append with book.AppendAsync, the next
	// batch started before the last one's result (default off: Append).
	Async bool
	// CacheMB is the DB's block cache in MiB (default 0: db's default,
	// Options.CacheSize), for measuring reads against the cache's size.
	CacheMB int
	// MemTableMB and MemTableStopWrites set the DB's memtable size (MiB)
	// and how many may wait to flush before writes stall (default 0: db's
	// defaults, 64 MiB and 2), for the append benchmarks and their
	// baseline alike.
	MemTableMB         int
	MemTableStopWrites int
	// NoPacing turns the DB's write pacing off (db.Options.NoWritePacing):
	// appends then run at full speed into Pebble's write stalls. The
	// baseline is raw Pebble, never paced.
	NoPacing bool
	Books    int    // books for open-books; default 10,000
	Dir      string // where the DB goes; default a fresh temporary directory, removed after
	// CPUProfile, for replicate, is a file for a CPU profile of the timed
	// download alone (not the setup nor the raw-stream baseline).
	CPUProfile string
}

// BenchResult is one run's figures. Latencies are per operation.
type BenchResult struct {
	Shape       string  `json:"shape"`
	Pages       int     `json:"pages"`
	Size        int     `json:"size"`
	Batch       int     `json:"batch"`
	Sync        bool    `json:"sync"`
	Async       bool    `json:"async,omitempty"`
	CacheMB     int     `json:"cache_mb,omitempty"`
	Ops         int     `json:"ops"`
	Seconds     float64 `json:"seconds"`
	PagesPerSec float64 `json:"pages_per_sec"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	MBPerSec    float64 `json:"mb_per_sec"`
	P50us       float64 `json:"p50_us,omitempty"`
	P99us       float64 `json:"p99_us,omitempty"`
	// Baseline is the same run's raw Pebble rate: for append-single --sync,
	// pebble-sync with the same --pages, --size and --sync, just before;
	// for append-batch, the same records (pages, tree nodes, head) in the
	// same batches and the same order within them, with nothing hashed or
	// signed, committed to a second
	// Pebble in turn with folio's appends, batch by batch
	// (bench_baseline.go). Ratio is pages_per_sec / baseline_pages_per_sec.
	Baseline float64 `json:"baseline_pages_per_sec,omitempty"`
	// BaselineMB is, for replicate, the rate of the same bytes copied over
	// one raw libp2p stream between the same two hosts, just before the
	// replication; Ratio is then mb_per_sec / baseline_mb_per_sec.
	BaselineMB float64 `json:"baseline_mb_per_sec,omitempty"`
	Ratio      float64 `json:"ratio,omitempty"`
	// For append-batch: the baseline's own latencies, and the write stalls
	// (Pebble holding a commit back while flushes or compactions catch up:
	// how many, and their total time) of each side.
	BaselineP50us   float64 `json:"baseline_p50_us,omitempty"`
	BaselineP99us   float64 `json:"baseline_p99_us,omitempty"`
	Stalls          int     `json:"write_stalls,omitempty"`
	StallMs         float64 `json:"write_stall_ms,omitempty"`
	BaselineStalls  int     `json:"baseline_write_stalls,omitempty"`
	BaselineStallMs float64 `json:"baseline_write_stall_ms,omitempty"`
	// Of the stalls, those because L0 had too many sublevels (the rest
	// waited for a memtable flush).
	StallsL0         int `json:"write_stalls_l0,omitempty"`
	BaselineStallsL0 int `json:"baseline_write_stalls_l0,omitempty"`
	// Write pacing (db.Options.NoWritePacing): appends held back to spread
	// a flush over them, and their waits in total; NoPacing if it was off.
	PacedAppends int     `json:"paced_appends,omitempty"`
	PacedMs      float64 `json:"paced_ms,omitempty"`
	NoPacing     bool    `json:"no_pacing,omitempty"`
}

// BenchShapes lists the shapes Bench knows, with what each measures.
var BenchShapes = map[string]string{
	"append-single": "one page per append (one signature and one Pebble batch each)",
	"append-batch":  "--batch pages per append, in turn with the same records committed to raw Pebble (the baseline)",
	"get-random":    "random local gets from a book of --pages pages (settled LSM, warm cache)",
	"proof-verify":  "build a page proof with upgrade and verify it into a read-only book",
	"pebble-sync":   "baseline: raw Pebble writes of --size bytes, one batch each (use --sync)",
	"open-books":    "open a DB holding --books books, then one of them",
	"replicate":     "a reader downloads a book of --pages pages over one libp2p stream (TCP loopback, two hosts in one process), after the same bytes over a raw stream (the baseline)",
	"notify":        "append one page every 2 ms (--pages appends, default 2000); latency from Append to the reader's subscription over libp2p",
}

func (c *BenchConfig) defaults() {
	if c.Size <= 0 {
		c.Size = 1024
	}
	if c.Batch <= 0 {
		c.Batch = 1000
	}
	if c.Books <= 0 {
		c.Books = 10000
	}
	if c.Pages <= 0 {
		c.Pages = 100000
		if c.Shape == "append-single" || c.Shape == "pebble-sync" || c.Shape == "proof-verify" {
			c.Pages = 10000
		}
		if c.Sync || c.Shape == "notify" {
			c.Pages = 2000
		}
	}
}

// Bench runs one benchmark and returns its figures.
func Bench(ctx context.Context, c BenchConfig) (*BenchResult, error) {
	c.defaults()
	if _, ok := BenchShapes[c.Shape]; !ok {
		return nil, fmt.Errorf("unknown shape %q", c.Shape)
	}
	dir := c.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "folio-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "db")
	}
	r := &BenchResult{Shape: c.Shape, Pages: c.Pages, Size: c.Size, Batch: 1, Sync: c.Sync, CacheMB: c.CacheMB}
	var lat []time.Duration
	var wall time.Duration // when set, the run's time (latencies that overlap)
	var err error
	switch c.Shape {
	case "append-single":
		if c.Sync {
			base := &BenchResult{Pages: c.Pages, Size: c.Size}
			blat, err := benchPebble(dir+"-baseline", c)
			if err != nil {
				return nil, err
			}
			base.fill(blat)
			r.Baseline = base.PagesPerSec
		}
		lat, err = benchAppend(ctx, dir, c, 1)
	case "append-batch":
		r.Batch, r.Async, r.NoPacing = c.Batch, c.Async, c.NoPacing
		var blat []time.Duration
		if c.Async {
			lat, blat, wall, err = benchAppendAsyncVsRaw(ctx, dir, c, r)
		} else {
			lat, blat, err = benchAppendVsRaw(ctx, dir, c, r)
		}
		if err != nil {
			return nil, err
		}
		base := &BenchResult{Pages: c.Pages, Size: c.Size}
		base.fill(blat)
		r.Baseline, r.BaselineP50us, r.BaselineP99us = base.PagesPerSec, base.P50us, base.P99us
	case "get-random":
		lat, err = benchGet(ctx, dir, c)
	case "proof-verify":
		lat, err = benchProof(ctx, dir, c)
	case "pebble-sync":
		lat, err = benchPebble(dir, c)
	case "open-books":
		r.Pages = c.Books
		lat, err = benchOpen(ctx, dir, c)
	case "replicate":
		var raw time.Duration
		lat, raw, err = benchReplicate(ctx, dir, c)
		if raw > 0 {
			r.BaselineMB = float64(c.Pages) * float64(c.Size) / 1e6 / raw.Seconds()
		}
	case "notify":
		lat, err = benchNotify(ctx, dir, c)
	}
	if err != nil {
		return nil, err
	}
	r.fill(lat)
	if c.Shape == "replicate" { // one timed transfer: no per-operation latency
		r.P50us, r.P99us = 0, 0
	}
	if r.Baseline > 0 {
		r.Ratio = r.PagesPerSec / r.Baseline
	}
	r.setWall(wall)
	if r.BaselineMB > 0 {
		r.Ratio = r.MBPerSec / r.BaselineMB
	}
	return r, nil
}

// fill computes rates and percentiles from per-operation latencies.
func (r *BenchResult) fill(lat []time.Duration) {
	var total time.Duration
	for _, l := range lat {
		total += l
	}
	r.Ops = len(lat)
	r.Seconds = total.Seconds()
	if r.Seconds > 0 {
		r.OpsPerSec = float64(r.Ops) / r.Seconds
		r.PagesPerSec = float64(r.Pages) / r.Seconds
		r.MBPerSec = float64(r.Pages) * float64(r.Size) / 1e6 / r.Seconds
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		r.P50us = float64(lat[len(lat)/2].Nanoseconds()) / 1e3
		r.P99us = float64(lat[min(len(lat)-1, int(math.Ceil(float64(len(lat))*0.99))-1)].Nanoseconds()) / 1e3
	}
}

// setWall sets the rates from the time the run took, when that is not the
// sum of its latencies (0: leave them).
func (r *BenchResult) setWall(wall time.Duration) {
	if wall <= 0 {
		return
	}
	r.Seconds = wall.Seconds()
	r.OpsPerSec = float64(r.Ops) / r.Seconds
	r.PagesPerSec = float64(r.Pages) / r.Seconds
	r.MBPerSec = float64(r.Pages) * float64(r.Size) / 1e6 / r.Seconds
	if r.Baseline > 0 {
		r.Ratio = r.PagesPerSec / r.Baseline
	}
}

func randomPages(n, size int) [][]byte {
	buf := make([]byte, n*size)
	rand.Read(buf)
	pages := make([][]byte, n)
	for i := range pages {
		pages[i] = buf[i*size : (i+1)*size : (i+1)*size]
	}
	return pages
}

// dbOptions are the DB options c asks for (zero: db's defaults).
func (c BenchConfig) dbOptions() *db.Options {
	return &db.Options{NoSync: !c.Sync, CacheSize: int64(c.CacheMB) << 20,
		MemTableSize: uint64(c.MemTableMB) << 20, MemTableStopWrites: c.MemTableStopWrites,
		NoWritePacing: c.NoPacing}
}

func openBench(dir string, c BenchConfig) (*db.DB, *book.Book, error) {
	d, err := db.Open(dir, c.dbOptions())
	if err != nil {
		return nil, nil, err
	}
	b, err := d.Book(context.Background(), "bench")
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, b, nil
}

// openFilled opens a bench DB whose book holds c.Pages random pages,
// appended untimed in batches of 1000 without sync.
func openFilled(ctx context.Context, dir string, c BenchConfig) (*db.DB, *book.Book, error) {
	d, b, err := openBench(dir, c)
	if err != nil {
		return nil, nil, err
	}
	pages := randomPages(c.Pages, c.Size)
	for i := 0; i < len(pages); i += 1000 {
		if _, err := b.AppendWith(ctx, book.AppendOptions{Sync: book.SyncOff}, pages[i:min(i+1000, len(pages))]...); err != nil {
			d.Close()
			return nil, nil, err
		}
	}
	return d, b, nil
}

func benchAppend(ctx context.Context, dir string, c BenchConfig, batch int) ([]time.Duration, error) {
	d, b, err := openBench(dir, c)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	pages := randomPages(c.Pages, c.Size)
	lat := make([]time.Duration, 0, c.Pages/batch+1)
	for i := 0; i < len(pages); i += batch {
		t := time.Now()
		if _, err := b.Append(ctx, pages[i:min(i+batch, len(pages))]...); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

func benchGet(ctx context.Context, dir string, c BenchConfig) ([]time.Duration, error) {
	d, b, err := openFilled(ctx, dir, c)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	// Measure reads on a settled LSM, as a DB loaded earlier would be.
	if err := d.Compact(ctx); err != nil {
		return nil, err
	}
	// One untimed sequential pass warms the block cache, as an app that has
	// read its book once would have it. It reads with one iterator, as
	// CacheSize's doc says to: a Get loop over a book larger than the cache
	// takes minutes in Pebble's CLOCK-Pro cache (BENCHMARKS.md, issue 15,
	// part E) and leaves the cache no warmer.
	if err := warmPages(b, uint64(c.Pages)); err != nil {
		return nil, err
	}
	if err := warmGets(ctx, b, uint64(c.Pages)); err != nil {
		return nil, err
	}
	local := &book.GetOptions{LocalOnly: true}
	rng := mrand.New(mrand.NewPCG(1, 2))
	lat := make([]time.Duration, c.Pages)
	for i := range lat {
		idx := rng.Uint64N(uint64(c.Pages))
		t := time.Now()
		if _, err := b.Get(ctx, idx, local); err != nil {
			return nil, err
		}
		lat[i] = time.Since(t)
	}
	return lat, nil
}

func benchProof(ctx context.Context, dir string, c BenchConfig) ([]time.Duration, error) {
	d, b, err := openFilled(ctx, dir, c)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	// The author's own book takes no proofs: the reader is a second DB.
	lat := make([]time.Duration, 0, c.Pages)
	rd, err := db.Open(dir+"-reader", &db.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	rng := mrand.New(mrand.NewPCG(3, 4))
	r, err := rd.OpenKey(ctx, b.Key())
	if err != nil {
		return nil, err
	}
	for len(lat) < c.Pages {
		idx := rng.Uint64N(uint64(c.Pages))
		t := time.Now()
		req := book.ProofRequest{Page: &book.PageRequest{Index: idx}}
		if r.Length() < b.Length() {
			req.Upgrade = &book.UpgradeRequest{Start: r.Length()}
		}
		p, err := b.Proof(req)
		if err != nil {
			return nil, err
		}
		if err := r.ApplyProof(ctx, p); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

func benchPebble(dir string, c BenchConfig) ([]time.Duration, error) {
	pdb, wo, err := openRaw(dir, &pebble.Options{Logger: quiet{}}, c.Sync)
	if err != nil {
		return nil, err
	}
	defer pdb.Close()
	val := randomPages(1, c.Size)[0]
	lat := make([]time.Duration, c.Pages)
	key := make([]byte, 8)
	for i := range lat {
		key = fmt.Appendf(key[:0], "%016d", i)
		t := time.Now()
		if err := pdb.Set(key, val, wo); err != nil {
			return nil, err
		}
		lat[i] = time.Since(t)
	}
	return lat, nil
}

func benchOpen(ctx context.Context, dir string, c BenchConfig) ([]time.Duration, error) {
	d, err := db.Open(dir, &db.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	for i := range c.Books {
		b, err := d.Book(ctx, fmt.Sprintf("book-%d", i))
		if err != nil {
			d.Close()
			return nil, err
		}
		if _, err := b.AppendWith(ctx, book.AppendOptions{Sync: book.SyncOff}, []byte("page")); err != nil {
			d.Close()
			return nil, err
		}
	}
	if err := d.Close(); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, 5)
	for range 5 {
		t := time.Now()
		d, err := db.Open(dir, nil)
		if err != nil {
			return nil, err
		}
		b, err := d.Book(ctx, fmt.Sprintf("book-%d", c.Books/2))
		if err == nil && b.Length() != 1 {
			err = fmt.Errorf("book-%d has length %d", c.Books/2, b.Length())
		}
		lat = append(lat, time.Since(t))
		d.Close()
		if err != nil {
			return nil, err
		}
	}
	return lat, nil
}

type quiet struct{}

func (quiet) Infof(string, ...any)         {}
func (quiet) Errorf(string, ...any)        {}
func (quiet) Fatalf(f string, args ...any) { pebble.DefaultLogger.Fatalf(f, args...) }
