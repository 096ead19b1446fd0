package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer"
)

// TasksConfig describes one run of `folio bench tasks`.
type TasksConfig struct {
	Tasks int    // tasks of 3 members; default 100
	Dir   string // where the vaults go; default a temporary directory, removed after
	// GoroutineProfile, if set, is a file that gets the goroutines (pprof
	// text, grouped by stack) when they are counted.
	GoroutineProfile string
}

// TasksResult is one run's figures. Field names are read by other tooling.
type TasksResult struct {
	Tasks int `json:"tasks"`
	// AddTask: one task created by the vault's owner and joined by the
	// two other members (Join returns); the median of the first and of
	// the last tenth of the tasks.
	AddTaskMsFirst float64 `json:"add_task_ms_first"`
	AddTaskMsLast  float64 `json:"add_task_ms_last"`
	// ReopenMs: closing the owner's messenger, then Open again.
	ReopenMs float64 `json:"reopen_ms"`
	// FirstMessageMs: after the reopen, the owner sends to its first task;
	// until both other members' subscriptions deliver it.
	FirstMessageMs float64 `json:"first_message_ms"`
	// Goroutines: the whole process's (all three peers, libp2p included)
	// once the first message after the reopen was delivered.
	Goroutines int `json:"goroutines"`
	// IdleCPUMsPerS: the process's CPU per second (all three vaults) over
	// one quiet second after that, once what the reopen started has
	// settled (see settle): what T tasks cost while nothing happens.
	IdleCPUMsPerS float64 `json:"idle_cpu_ms_per_s"`
}

// BenchTasks runs one tasks benchmark: three peers, the owner (the vault
// measured) and two others, share --tasks tasks.
func BenchTasks(ctx context.Context, c TasksConfig) (*TasksResult, error) {
	if c.Tasks <= 0 {
		c.Tasks = 100
	}
	dir, done, err := benchDir(c.Dir)
	if err != nil {
		return nil, err
	}
	defer done()
	ps := make([]*peer.Peer, 3)
	defer func() { closeAll(ps) }()
	for i, n := range []string{"owner", "b", "c"} {
		if ps[i], err = openBenchPeer(ctx, dir, n, 0); err != nil {
			return nil, err
		}
	}
	r := &TasksResult{Tasks: c.Tasks}
	var adds []time.Duration
	var first peer.TaskID
	for i := range c.Tasks {
		t0 := time.Now()
		task, err := addTask(ctx, ps, i)
		if err != nil {
			return nil, fmt.Errorf("task %d: %w", i, err)
		}
		adds = append(adds, time.Since(t0))
		if i == 0 {
			first = task
		}
	}
	tenth := max(1, c.Tasks/10)
	r.AddTaskMsFirst = quantileMs(adds[:tenth], 0.5)
	r.AddTaskMsLast = quantileMs(adds[len(adds)-tenth:], 0.5)
	ps[0].Close()
	t0 := time.Now()
	if ps[0], err = openBenchPeer(ctx, dir, "owner", 0); err != nil {
		return nil, fmt.Errorf("reopen: %w", err)
	}
	r.ReopenMs = ms(time.Since(t0))
	if r.FirstMessageMs, err = firstMessage(ctx, ps, first); err != nil {
		return nil, err
	}
	r.Goroutines = runtime.NumGoroutine()
	if c.GoroutineProfile != "" {
		if err := writeGoroutines(c.GoroutineProfile); err != nil {
			return nil, err
		}
	}
	settle()
	r.IdleCPUMsPerS = idleCPU(time.Second)
	return r, nil
}

// addTask: the owner creates task i and invites the two others, who join.
func addTask(ctx context.Context, ps []*peer.Peer, i int) (peer.TaskID, error) {
	return createAndJoin(ctx, ps, fmt.Sprintf("task %d", i))
}

// firstMessage sends one message from the owner to task and returns the
// milliseconds until both others have it.
func firstMessage(ctx context.Context, ps []*peer.Peer, task peer.TaskID) (float64, error) {
	subCtx, stop := context.WithCancel(ctx)
	defer stop()
	a := &arrivals{at: map[string]map[libp2ppeer.ID]time.Time{}, wake: make(chan struct{}, 1)}
	if err := subscribeAll(subCtx, ps[1:], task, a); err != nil {
		return 0, err
	}
	const text = "first message after the reopen"
	t0 := time.Now()
	if _, err := ps[0].Send(ctx, task, text); err != nil {
		return 0, err
	}
	others := []libp2ppeer.ID{ps[1].ID(), ps[2].ID()}
	l, err := a.wait(ctx, text, others)
	if err != nil {
		return 0, fmt.Errorf("first message after reopen: %w", err)
	}
	return ms(l.Sub(t0)), nil
}

// writeGoroutines writes the process's goroutines, grouped by stack, to
// file.
func writeGoroutines(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("goroutine").WriteTo(f, 1); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
