package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer"
)

// GroupConfig describes one run of `folio bench group`.
type GroupConfig struct {
	Members  int    // peers in the task, the creator included; default 8
	Messages int    // messages sent; default 500 (see CPUMsPerMessage)
	FromAll  bool   // message i comes from member i mod Members (default: all from the creator)
	Dir      string // where the vaults go; default a temporary directory, removed after
	// FormProfile and SendProfile, when set, are files for a CPU profile
	// of the formation phase and of the send phase alone (default: none).
	FormProfile string
	SendProfile string
	// IdleProfile, when set, is a file for a CPU profile of idleProfileFor
	// more idle seconds after the idle second (default: none; the send
	// phase then starts that much later).
	IdleProfile string
	// SendMemProfile, when set, is a file for the allocations of the send
	// phase alone (pprof's alloc_space and alloc_objects, sampled every
	// 64 KiB): heap profiles at its start (SendMemProfile + ".base") and
	// end, read with pprof -diff_base.
	SendMemProfile string
	// GoroutineProfile, when set, is a file that gets the goroutines
	// (grouped by stack) once formation has settled, when Goroutines is
	// counted (default: none).
	GoroutineProfile string
}

// idleProfileFor is how long IdleProfile profiles the formed, idle group:
// at ~1 ms of CPU per second per peer, one second holds too few samples.
const idleProfileFor = 10 * time.Second

// GroupResult is one run's figures. Field names are read by other tooling.
type GroupResult struct {
	Members  int    `json:"members"`
	Messages int    `json:"messages"`
	From     string `json:"from"` // "one" or "all"
	// FormedMs: from the first invite until every member holds a book
	// from every other member (invites and joins one after another).
	FormedMs float64 `json:"formed_ms"`
	// Send: how long Send takes to return.
	SendP50Ms float64 `json:"send_p50_ms"`
	SendP99Ms float64 `json:"send_p99_ms"`
	// Deliver: from Send's call until the last other member's
	// subscription delivers the message. Messages go one at a time: the
	// next is sent once the previous reached everyone.
	DeliverP50Ms float64 `json:"deliver_p50_ms"`
	DeliverP99Ms float64 `json:"deliver_p99_ms"`
	// CPUMsPerMessage: the process's CPU time (every peer) over the send
	// phase, divided by the messages. The send phase starts once formation's
	// work is done (see settle): its garbage is collected and the process's
	// CPU is quiet, so what formation left running is not billed to
	// messages. The default of 500 messages is what makes the figure
	// steady at 32 members: there, the heap (~150 MB, mostly formation's
	// state) is collected once every ~370 messages at ~0.2 s of CPU a
	// cycle, so a window of 50 messages held no cycle or one (0 or ~4 ms
	// per message); 500 hold one or two at 32 and several at 8.
	CPUMsPerMessage float64 `json:"cpu_ms_per_message"`
	// SendMs: the send phase's wall time. IdleCPUMsPerS: the process's
	// CPU per second over one quiet second before it (no messages: timers,
	// keep-alives of every connection). Both are for reading
	// CPUMsPerMessage, which includes IdleCPUMsPerS × SendMs of such
	// background work, whatever the messages cost.
	SendMs        float64 `json:"send_ms"`
	IdleCPUMsPerS float64 `json:"idle_cpu_ms_per_s"`
	// ConnsMax: after the send phase, the most connections one peer has
	// (one per other member is Members−1; more are duplicates).
	ConnsMax int `json:"conns_max"`
	// ConnsOpened: connections dialed by all peers until the group formed;
	// Members(Members−1)/2 is one per pair, more were duplicates (retired).
	ConnsOpened int64 `json:"conns_opened"`
	// HeapMB: the runtime's heap in use (HeapInuse) once formation has
	// settled, after a GC: what the group holds while it is idle (books'
	// state, connections, replication sessions' buffers).
	HeapMB float64 `json:"heap_mb"`
	// StackMB and Goroutines, read with HeapMB: goroutine stacks
	// (StackInuse) are not in the heap, and most goroutines are per
	// connection or per replication session.
	StackMB    float64 `json:"stack_mb"`
	Goroutines int     `json:"goroutines"`
	// AllocKBPerDelivery and AllocsPerDelivery: what the whole process
	// allocated over the send phase (runtime.MemStats TotalAlloc and
	// Mallocs, the author's and the bench's share included) divided by
	// the deliveries, Messages × (Members − 1): the garbage each
	// delivered message costs, which the collector's CPU follows.
	AllocKBPerDelivery float64 `json:"alloc_kb_per_delivery"`
	AllocsPerDelivery  float64 `json:"allocs_per_delivery"`
}

// countDials returns a notifiee (libp2p's NotifyBundle) that counts in n
// the connections a host dials.
func countDials(n *atomic.Int64) network.Notifiee {
	return &network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		if c.Stat().Direction == network.DirOutbound {
			n.Add(1)
		}
	}}
}

// BenchGroup runs one group benchmark.
func BenchGroup(ctx context.Context, c GroupConfig) (*GroupResult, error) {
	if c.Members < 2 {
		c.Members = 8
	}
	if c.Messages <= 0 {
		c.Messages = 500
	}
	if c.SendMemProfile != "" {
		// Before anything is allocated: pprof scales every sample by the
		// rate in force when the profile is written, so a rate changed
		// just before the base profile read its earlier samples 8× low.
		runtime.MemProfileRate = memProfileRate
	}
	dir, done, err := benchDir(c.Dir)
	if err != nil {
		return nil, err
	}
	defer done()
	ps := make([]*peer.Peer, c.Members)
	defer closeAll(ps)
	for i := range ps {
		if ps[i], err = openBenchPeer(ctx, dir, fmt.Sprintf("m%03d", i), c.Members+8); err != nil {
			return nil, err
		}
	}
	r := &GroupResult{Members: c.Members, Messages: c.Messages, From: "one"}
	if c.FromAll {
		r.From = "all"
	}
	stop, err := profilePhase(c.FormProfile)
	if err != nil {
		return nil, err
	}
	var dials atomic.Int64
	for _, p := range ps {
		p.Vault().Host().Network().Notify(countDials(&dials))
	}
	start := time.Now()
	task, err := formGroup(ctx, ps)
	stop()
	if err != nil {
		return nil, err
	}
	r.FormedMs = ms(time.Since(start))
	r.ConnsOpened = dials.Load()
	settle()
	r.HeapMB = heapMB()
	r.StackMB, r.Goroutines = stackMB(), runtime.NumGoroutine()
	if c.GoroutineProfile != "" {
		if err := writeGoroutines(c.GoroutineProfile); err != nil {
			return nil, err
		}
	}
	r.IdleCPUMsPerS = idleCPU(time.Second)
	if c.IdleProfile != "" {
		if stop, err = startCPUProfile(c.IdleProfile); err != nil {
			return nil, err
		}
		time.Sleep(idleProfileFor)
		stop()
	}
	if stop, err = profilePhase(c.SendProfile); err != nil {
		return nil, err
	}
	memDone, err := memPhase(c.SendMemProfile)
	if err != nil {
		return nil, err
	}
	err = sendPhase(ctx, c, ps, task, r)
	stop()
	if err == nil {
		err = memDone()
	}
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		r.ConnsMax = max(r.ConnsMax, len(p.Vault().Host().Network().Conns()))
	}
	return r, nil
}

// profilePhase starts a CPU profile into file, or nothing when file is "".
func profilePhase(file string) (func(), error) {
	if file == "" {
		return func() {}, nil
	}
	return startCPUProfile(file)
}

// memProfileRate is the heap profile's sampling interval with
// SendMemProfile: one sample per 64 KiB allocated (Go's default is 512 KiB,
// too coarse for a few hundred messages).
const memProfileRate = 64 << 10

// memPhase writes a heap profile to file+".base" now and returns what
// writes one to file (nothing when file is ""). BenchGroup has set the
// sampling rate when it started.
func memPhase(file string) (func() error, error) {
	if file == "" {
		return func() error { return nil }, nil
	}
	if err := writeHeap(file + ".base"); err != nil {
		return nil, err
	}
	return func() error { return writeHeap(file) }, nil
}

func writeHeap(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	runtime.GC() // the profile is as of the last GC
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// formGroup: the first peer creates a task and invites each other peer in
// turn; it returns once every member holds a book from every other.
func formGroup(ctx context.Context, ps []*peer.Peer) (peer.TaskID, error) {
	task, err := createAndJoin(ctx, ps, "bench")
	if err != nil {
		return task, err
	}
	want := 2 * (len(ps) - 1)
	return task, pollUntil(ctx, "the group to form", func() bool {
		for _, p := range ps {
			if bs, err := p.Books(task); err != nil || len(bs) < want {
				return false
			}
		}
		return true
	})
}

// arrivals records when each peer's subscription delivered each text.
type arrivals struct {
	mu   sync.Mutex
	at   map[string]map[libp2ppeer.ID]time.Time
	wake chan struct{}
}

func (a *arrivals) add(text string, who libp2ppeer.ID, t time.Time) {
	a.mu.Lock()
	if a.at[text] == nil {
		a.at[text] = map[libp2ppeer.ID]time.Time{}
	}
	a.at[text][who] = t
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// last is when the last of others got text, or false if one has not yet.
func (a *arrivals) last(text string, others []libp2ppeer.ID) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var l time.Time
	for _, o := range others {
		t, ok := a.at[text][o]
		if !ok {
			return l, false
		}
		if t.After(l) {
			l = t
		}
	}
	return l, true
}

// wait returns when the last of others got text.
func (a *arrivals) wait(ctx context.Context, text string, others []libp2ppeer.ID) (time.Time, error) {
	for {
		if l, ok := a.last(text, others); ok {
			return l, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("not delivered to every other member: %w", ctx.Err())
		case <-a.wake:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// subscribeAll records every peer's deliveries until ctx ends.
func subscribeAll(ctx context.Context, ps []*peer.Peer, task peer.TaskID, a *arrivals) error {
	for _, p := range ps {
		sub, err := p.Subscribe(task)
		if err != nil {
			return err
		}
		go func() {
			defer sub.Close()
			for {
				select {
				case <-ctx.Done():
					return
				case m, ok := <-sub.C:
					if !ok {
						return
					}
					a.add(m.Text, p.ID(), time.Now())
				}
			}
		}()
	}
	return nil
}

// sendPhase sends the messages one at a time, each once the previous one
// reached every other member, and fills r's send, deliver and CPU figures.
func sendPhase(ctx context.Context, c GroupConfig, ps []*peer.Peer, task peer.TaskID, r *GroupResult) error {
	subCtx, stop := context.WithCancel(ctx)
	defer stop()
	a := &arrivals{at: map[string]map[libp2ppeer.ID]time.Time{}, wake: make(chan struct{}, 1)}
	if err := subscribeAll(subCtx, ps, task, a); err != nil {
		return err
	}
	var sends, delivers []time.Duration
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0, start := cpuTime(), time.Now()
	for i := range c.Messages {
		from := ps[0]
		if c.FromAll {
			from = ps[i%len(ps)]
		}
		var others []libp2ppeer.ID
		for _, p := range ps {
			if p != from {
				others = append(others, p.ID())
			}
		}
		text := fmt.Sprintf("bench message %06d from %s", i, from.ID().ShortString())
		t0 := time.Now()
		if _, err := from.Send(ctx, task, text); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
		sends = append(sends, time.Since(t0))
		l, err := a.wait(ctx, text, others)
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		delivers = append(delivers, l.Sub(t0))
	}
	r.CPUMsPerMessage = ms((cpuTime() - cpu0) / time.Duration(c.Messages))
	r.SendMs = ms(time.Since(start))
	runtime.ReadMemStats(&m1)
	deliveries := float64(c.Messages * (len(ps) - 1))
	r.AllocKBPerDelivery = float64(m1.TotalAlloc-m0.TotalAlloc) / 1024 / deliveries
	r.AllocsPerDelivery = float64(m1.Mallocs-m0.Mallocs) / deliveries
	r.SendP50Ms, r.SendP99Ms = quantileMs(sends, 0.5), quantileMs(sends, 0.99)
	r.DeliverP50Ms, r.DeliverP99Ms = quantileMs(delivers, 0.5), quantileMs(delivers, 0.99)
	return nil
}
