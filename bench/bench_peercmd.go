package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"time"
)

// peerBenchCommand runs `folio bench group|tasks [flags]`: --runs runs,
// one JSON object (or line) each, then with several runs the median of
// each field on its own.
func peerBenchCommand(ctx context.Context, shape string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench "+shape, flag.ContinueOnError)
	fs.SetOutput(stderr)
	members := fs.Int("members", 8, "group: peers in the task")
	messages := fs.Int("messages", 500, "group: messages sent, one at a time")
	fromAll := fs.Bool("from-all", false, "group: message i comes from member i mod N (default: all from one member)")
	tasks := fs.Int("tasks", 100, "tasks: tasks of 3 members in the vault")
	dir := fs.String("dir", "", "directory for the vaults (default: a temporary one, removed after)")
	runs := fs.Int("runs", 1, "repeat the run this many times; with more than one, also print the medians")
	asJSON := fs.Bool("json", false, "print one JSON object per run")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of all the runs to this file")
	formProfile := fs.String("form-cpuprofile", "", "group: write a CPU profile of the formation phase only to this file (the last run's)")
	sendProfile := fs.String("send-cpuprofile", "", "group: write a CPU profile of the send phase only to this file (the last run's)")
	idleProfile := fs.String("idle-cpuprofile", "", "group: write a CPU profile of 10 s of the formed group idle (after the idle second, before the send phase) to this file (the last run's)")
	sendMem := fs.String("send-memprofile", "", "group: write the send phase's allocations to this file (heap profiles at its start, FILE.base, and end; read with pprof -diff_base)")
	goProfile := fs.String("goroutineprofile", "", "tasks and group: write the goroutines, grouped by stack, to this file when they are counted")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long (each run)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: folio bench %s [flags]\n\n%s\n\nflags:\n", shape, PeerBenchShapes[shape])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *runs < 1 {
		fs.Usage()
		return 2
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "folio bench %s: %v\n", shape, err)
			return 1
		}
		defer stop()
	}
	var results []map[string]float64
	for i := range *runs {
		rctx, cancel := context.WithTimeout(ctx, *timeout)
		var r any
		var err error
		d := *dir
		if d != "" {
			d = fmt.Sprintf("%s/run-%d", d, i)
		}
		if shape == "group" {
			r, err = BenchGroup(rctx, GroupConfig{Members: *members, Messages: *messages, FromAll: *fromAll, Dir: d,
				FormProfile: *formProfile, SendProfile: *sendProfile, IdleProfile: *idleProfile, SendMemProfile: *sendMem, GoroutineProfile: *goProfile})
		} else {
			r, err = BenchTasks(rctx, TasksConfig{Tasks: *tasks, Dir: d, GoroutineProfile: *goProfile})
		}
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "folio bench %s: %v\n", shape, err)
			return 1
		}
		printPeerResult(stdout, r, *asJSON, "")
		results = append(results, numbers(r))
	}
	if len(results) > 1 {
		printPeerResult(stdout, medians(results), *asJSON, "median")
	}
	return 0
}

// startCPUProfile profiles the process into file until the returned stop.
func startCPUProfile(file string) (func(), error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// numbers is r's JSON fields that are numbers.
func numbers(r any) map[string]float64 {
	b, _ := json.Marshal(r)
	var all map[string]any
	_ = json.Unmarshal(b, &all)
	out := map[string]float64{}
	for k, v := range all {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	return out
}

// medians is, field by field, the median of the runs (the upper middle
// for an even count).
func medians(rs []map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k := range rs[0] {
		vs := make([]float64, 0, len(rs))
		for _, r := range rs {
			vs = append(vs, r[k])
		}
		slices.Sort(vs)
		out[k] = vs[len(vs)/2]
	}
	return out
}

func printPeerResult(w io.Writer, r any, asJSON bool, label string) {
	if label != "" {
		r = map[string]any{label: r}
	}
	b, _ := json.Marshal(r)
	if asJSON {
		fmt.Fprintln(w, string(b))
		return
	}
	fmt.Fprintf(w, "%s\n", b) // the fields are the report; JSON is the plainest way to show them
}
