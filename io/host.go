package io

import (
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	ma "github.com/multiformats/go-multiaddr"
)

// DefaultListenAddrs are where a Swarm's own host listens by default.
var DefaultListenAddrs = []string{
	"/ip4/0.0.0.0/tcp/0",
	"/ip4/0.0.0.0/udp/0/quic-v1",
	"/ip6/::/tcp/0",
	"/ip6/::/udp/0/quic-v1",
}

// newHost builds the Swarm's own libp2p host from ho, with room for
// maxPeers peers. firewall is asked once the remote's identity is known,
// before any stream; refused hears of each peer it refuses then.
func newHost(ho HostOptions, maxPeers int, firewall func(peer.ID) bool, refused func(peer.ID)) (host.Host, error) {
	key := ho.PrivateKey
	if key == nil {
		k, _, err := crypto.GenerateEd25519Key(nil)
		if err != nil {
			return nil, err
		}
		key = k
	}
	addrs := ho.ListenAddrs
	if len(addrs) == 0 {
		addrs = DefaultListenAddrs
	}
	security, err := securityOptions(ho.Security)
	if err != nil {
		return nil, err
	}
	limits := defaultLimits(maxPeers)
	if ho.ResourceLimits != nil {
		limits = *ho.ResourceLimits
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
	if err != nil {
		return nil, fmt.Errorf("io: resource manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(addrs...),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionGater(gater{firewall, refused}),
	}
	opts = append(opts, security...)
	if ho.Peerstore != nil {
		opts = append(opts, libp2p.Peerstore(ho.Peerstore))
	}
	if ho.DisableRelay {
		opts = append(opts, libp2p.DisableRelay())
	}
	if ho.RelayService {
		opts = append(opts, libp2p.EnableRelayService())
	}
	if ho.HolePunching {
		opts = append(opts, libp2p.EnableHolePunching())
	}
	if ho.AutoNAT {
		opts = append(opts, libp2p.EnableNATService(), libp2p.EnableAutoNATv2())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("io: libp2p host: %w", err)
	}
	return h, nil
}

// gater applies the firewall as soon as the remote is authenticated.
type gater struct {
	allow   func(peer.ID) bool
	refused func(peer.ID) // told of the peers refused once authenticated
}

var _ connmgr.ConnectionGater = gater{}

func (g gater) InterceptPeerDial(p peer.ID) bool                                { return g.allow(p) }
func (g gater) InterceptAddrDial(peer.ID, ma.Multiaddr) bool                    { return true }
func (g gater) InterceptAccept(network.ConnMultiaddrs) bool                     { return true }
func (g gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
func (g gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	if g.allow(p) {
		return true
	}
	g.refused(p)
	return false
}
