package bench

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestPeerBenchesRun: both messenger benchmarks run end to end on a small
// size (real vaults, libp2p on loopback) and report plausible figures.
func TestPeerBenchesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("opens several vaults")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g, err := BenchGroup(ctx, GroupConfig{Members: 3, Messages: 4, FromAll: true, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if g.Members != 3 || g.From != "all" || g.FormedMs <= 0 || g.SendP50Ms <= 0 || g.DeliverP99Ms < g.DeliverP50Ms || g.ConnsMax < 2 {
		t.Fatalf("implausible group result %+v", g)
	}
	tk, err := BenchTasks(ctx, TasksConfig{Tasks: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Tasks != 3 || tk.AddTaskMsFirst <= 0 || tk.AddTaskMsLast <= 0 || tk.ReopenMs <= 0 || tk.FirstMessageMs <= 0 || tk.Goroutines <= 0 {
		t.Fatalf("implausible tasks result %+v", tk)
	}
}

// TestGroupSendMemProfile: --send-memprofile writes the send phase's two
// heap profiles (gzipped pprof) and leaves the documented sampling rate in
// force. (That BenchGroup sets it when it starts, so that the base
// profile's earlier samples are not scaled 8× low, is not checked here: it
// would need a pprof parser.)
func TestGroupSendMemProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("opens several vaults")
	}
	old := runtime.MemProfileRate
	t.Cleanup(func() { runtime.MemProfileRate = old })
	runtime.MemProfileRate = 512 << 10
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	file := filepath.Join(t.TempDir(), "send.mem")
	if _, err := BenchGroup(ctx, GroupConfig{Members: 2, Messages: 3, Dir: t.TempDir(), SendMemProfile: file}); err != nil {
		t.Fatal(err)
	}
	if runtime.MemProfileRate != memProfileRate {
		t.Fatalf("MemProfileRate = %d after the run, want %d", runtime.MemProfileRate, memProfileRate)
	}
	for _, f := range []string{file + ".base", file} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Fatalf("%s is not a gzipped pprof profile (%d bytes)", f, len(b))
		}
	}
}
