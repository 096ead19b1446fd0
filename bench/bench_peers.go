package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// The messenger benchmarks (issue 13): many peers in one process, each
// with its own vault on disk (synced appends), on libp2p over loopback
// TCP, without mDNS or the DHT. Their JSON fields are read by other
// tooling; keep their names.

// PeerBenchShapes lists the messenger's benchmarks, run by their own flags.
var PeerBenchShapes = map[string]string{
	"group": "--members N peers in one task; formation, Send latency, delivery to every member, CPU per message",
	"tasks": "one vault with --tasks T tasks of 3 members; cost of adding a task, reopen, first message after reopen",
}

// openBenchPeer opens a messenger in dir/name, listening on loopback only.
// peers > 0 raises the swarm's MaxPeers (default 64) to hold that many.
func openBenchPeer(ctx context.Context, dir, name string, peers int) (*peer.Peer, error) {
	vo := &vault.Options{Name: name, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, DisableDHT: true, DisableMDNS: true}
	vo.Swarm = func(o *folioio.Options) { o.MaxPeers = max(o.MaxPeers, peers) }
	return peer.Open(ctx, filepath.Join(dir, name), &peer.Options{Vault: vo, Retry: 200 * time.Millisecond})
}

// benchDir returns dir, or a fresh temporary directory and its removal.
func benchDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o700)
	}
	d, err := os.MkdirTemp("", "folio-bench-")
	return d, func() { os.RemoveAll(d) }, err
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// quantileMs is the q-quantile of ds in milliseconds (nearest rank).
func quantileMs(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := max(0, min(len(s)-1, int(math.Ceil(float64(len(s))*q))-1))
	return ms(s[i])
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

// pollUntil polls ok every 5 ms until it holds or ctx ends.
func pollUntil(ctx context.Context, what string, ok func() bool) error {
	for !ok() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// createAndJoin: the first peer creates a task and invites each other
// peer in turn, who joins (Join returns) before the next is invited.
func createAndJoin(ctx context.Context, ps []*peer.Peer, title string) (peer.TaskID, error) {
	task, err := ps[0].CreateTask(ctx, title, peer.TaskID{})
	if err != nil {
		return task, err
	}
	for _, p := range ps[1:] {
		code, err := ps[0].Invite(ctx, task)
		if err != nil {
			return task, err
		}
		if _, err := p.Join(ctx, code); err != nil {
			return task, err
		}
	}
	return task, nil
}

// closeAll closes every non-nil peer.
func closeAll(ps []*peer.Peer) {
	for _, p := range ps {
		if p != nil {
			p.Close()
		}
	}
}
