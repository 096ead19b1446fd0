package io

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Rejoining after a restart. A peer that was offline starts with what its
// peerstore remembers (Options.KnownPeers, newest first): it redials
// those peers, and the DHT servers among them seed the routing table, so
// it finds the network again with no bootstrap node, as the libp2p
// peerstore design intends persisted peers to be used.

// redialKnown dials every known peer once, then on the Backoff schedule
// until it answers or the schedule ends.
func (s *Swarm) redialKnown() {
	for _, ai := range s.o.KnownPeers {
		if ai.ID == "" || ai.ID == s.h.ID() {
			continue
		}
		_, _ = s.want(ai, func(r *remote) { r.known = true }, false)
	}
}

// knownDHTServers returns the known peers that the host's peerstore lists
// with this swarm's DHT protocol.
func (s *Swarm) knownDHTServers() []peer.AddrInfo {
	proto := protocol.ID(s.o.DHTProtocolPrefix + "/kad/1.0.0")
	var out []peer.AddrInfo
	for _, ai := range s.o.KnownPeers {
		if ai.ID == s.h.ID() {
			continue
		}
		if ok, _ := s.h.Peerstore().SupportsProtocols(ai.ID, proto); len(ok) > 0 {
			out = append(out, ai)
		}
	}
	return out
}

// DHTPeers returns how many peers the DHT's routing table holds (0
// without a DHT).
func (s *Swarm) DHTPeers() int {
	if s.dht == nil {
		return 0
	}
	return s.dht.RoutingTable().Size()
}

// seedDHT connects to a DHT server and offers it to the routing table
// (the DHT also adds it by itself once identify confirms the protocol).
func (s *Swarm) seedDHT(ai peer.AddrInfo) {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.DialTimeout)
	defer cancel()
	if s.h.Connect(ctx, ai) == nil {
		_, _ = s.dht.RoutingTable().TryAddPeer(ai.ID, true, false)
	}
}
