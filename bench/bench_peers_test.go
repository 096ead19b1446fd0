package bench

import (
	"context"
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
