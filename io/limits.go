package io

import (
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

// defaultLimits is go-libp2p's default resource limits scaled to this
// machine, with room for maxPeers connections arriving at once.
//
// A connection counts against the transient scope until its security
// handshake names the remote. go-libp2p's default allows 64 + 16 per GiB
// of memory there (79 on a 4 GiB machine): when every member of a group
// of 100 dials a newcomer at once (each one reading the join message),
// the newcomer refused the rest ("transient: cannot reserve inbound
// connection"), their dials went into backoff, and the group never
// formed. Simultaneous dials can make two connections per peer, hence
// twice maxPeers; the system scope holds the settled ones beside them.
func defaultLimits(maxPeers int) rcmgr.ConcreteLimitConfig {
	cfg := rcmgr.DefaultLimits // a copy; AutoScale only reads its maps
	atLeast(&cfg.TransientBaseLimit, 2*maxPeers)
	atLeast(&cfg.SystemBaseLimit, 4*maxPeers)
	return cfg.AutoScale()
}

// atLeast raises l's connection and file-descriptor limits to n.
func atLeast(l *rcmgr.BaseLimit, n int) {
	l.Conns = max(l.Conns, n)
	l.ConnsInbound = max(l.ConnsInbound, n)
	l.ConnsOutbound = max(l.ConnsOutbound, n)
	l.FD = max(l.FD, n)
}
