package io

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

// TestDefaultLimitsHoldMaxPeers: with the default resource limits, a host
// can hold MaxPeers connections in their security handshake at once (two
// per peer: simultaneous dials) and four times MaxPeers settled ones; and
// they are never below go-libp2p's own defaults.
func TestDefaultLimitsHoldMaxPeers(t *testing.T) {
	theirs := rcmgr.DefaultLimits.AutoScale()
	base := theirs.ToPartialLimitConfig()
	for _, n := range []int{defaultMaxPeers, 100, 500} {
		l := defaultLimits(n).ToPartialLimitConfig()
		for _, c := range []struct {
			scope      string
			got, their rcmgr.ResourceLimits
			want       int
		}{
			{"transient", l.Transient, base.Transient, 2 * n},
			{"system", l.System, base.System, 4 * n},
		} {
			for _, d := range []network.Direction{network.DirInbound, network.DirOutbound} {
				got := c.got.Build(rcmgr.BaseLimit{}).GetConnLimit(d)
				their := c.their.Build(rcmgr.BaseLimit{}).GetConnLimit(d)
				if got < c.want || got < their {
					t.Errorf("MaxPeers %d: %s %s connections %d, want at least %d and go-libp2p's %d", n, c.scope, d, got, c.want, their)
				}
			}
			if got := c.got.Build(rcmgr.BaseLimit{}).GetFDLimit(); got < c.want {
				t.Errorf("MaxPeers %d: %s file descriptors %d, want at least %d", n, c.scope, got, c.want)
			}
		}
	}
}
