package bench

import (
	"runtime"
	"time"
)

// The settle rule between a benchmark's setup and its measured phase.
const (
	settleWindow = 100 * time.Millisecond
	// settleQuiet: the process is quiet when it used less than this much
	// CPU over one window (10 % of one core). Idle, 32 peers with their
	// connections use about 5 ms a window (timers, keep-alives), 8 peers
	// about 2: the same bound for every size.
	settleQuiet = 10 * time.Millisecond
	settleMax   = 3 * time.Second // give up waiting after this long
)

// settle ends the setup phase before a measured one: it collects the
// garbage setup left (else the measured phase pays a collection of it:
// at 32 members one cycle of a ~150 MB heap, ~0.2 s of CPU), then waits,
// at most settleMax, until the process's CPU over one settleWindow falls
// below settleQuiet (what setup left running: the last handshakes, syncs
// and introductions). It returns how long it waited.
func settle() time.Duration {
	start := time.Now()
	runtime.GC()
	for time.Since(start) < settleMax {
		c0 := cpuTime()
		time.Sleep(settleWindow)
		if cpuTime()-c0 < settleQuiet {
			break
		}
	}
	return time.Since(start)
}

// idleCPU is the process's CPU per second (in ms) over d of doing nothing.
func idleCPU(d time.Duration) float64 {
	c0 := cpuTime()
	time.Sleep(d)
	return ms(cpuTime()-c0) / d.Seconds()
}

// heapMB is the heap in use, in MB, after a GC.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// stackMB is the goroutine stacks in use, in MB.
func stackMB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.StackInuse) / (1 << 20)
}
