package peer

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkJoinConnected: ana and bo are connected (they share a task);
// each iteration is ana's Invite to a new task and bo's Join, until Join
// returns: bo's book for ana, the brief introduction, ana's welcome
// (her book for bo, the join message, her introduction) and the first
// pages of her book read at bo. No dial or TLS: the part of a join that
// is the messenger's own. Reported: p50/p99/max of Join alone.
func BenchmarkJoinConnected(b *testing.B) {
	if testing.Short() {
		b.Skip("opens vaults and libp2p hosts; skipped under -short")
	}
	ctx := context.Background()
	ana := openPeer(b, b.TempDir(), "ana")
	bo := openPeer(b, b.TempDir(), "bo")
	_, code := newInvite(ctx, b, ana, "first")
	if _, err := bo.Join(ctx, code); err != nil {
		b.Fatal(err)
	}
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_, code := newInvite(ctx, b, ana, fmt.Sprint("task ", i))
		b.StartTimer()
		t0 := time.Now()
		if _, err := bo.Join(ctx, code); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(t0))
	}
	b.StopTimer()
	benchReportLatency(b, samples, "join-")
}
