package io

import (
	"crypto/ed25519"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"

	"github.com/libp2p/go-libp2p/core/host"
)

// Options configures a Swarm. Nil and zero fields mean the documented
// defaults.
type Options struct {
	// Host is the libp2p host to use; the Swarm does not close it. Default:
	// a host built from HostOptions, closed with the Swarm.
	Host host.Host
	// HostOptions builds the host when Host is nil.
	HostOptions HostOptions

	// Offer returns the keys of the books to offer to remote in a
	// handshake. Default: none (topics and introductions only).
	Offer func(remote peer.ID) []ed25519.PublicKey
	// Accept decides whether to keep an introduction from remote (check
	// its token here): nil keeps it, an error refuses it and its text goes
	// back to remote as the reason. It runs inside the handshake and must
	// be quick. Default: keep every introduction whose key is well formed.
	Accept func(remote peer.ID, in Introduction) error
	// Firewall returns false to refuse a peer before any handshake: its
	// connections are closed (refused during the security handshake when
	// the Swarm built the host). Default: allow everyone.
	Firewall func(remote peer.ID) bool

	// MaxPeers bounds the peers handshaken at once; more are refused.
	// Default 64.
	MaxPeers int
	// Backoff is the wait before each successive dial attempt to a wanted
	// peer; the last entry repeats for explicit peers, while peers found by
	// discovery are dropped after the last attempt until found again.
	// Default 1 s, 5 s, 15 s, 1 min, 5 min.
	Backoff []time.Duration
	// HandshakeTimeout bounds one handshake. Default 10 s.
	HandshakeTimeout time.Duration
	// DialTimeout bounds one dial attempt. Default 10 s.
	DialTimeout time.Duration
	// MaxMessageSize bounds one handshake message. Default 1 MiB.
	MaxMessageSize int

	// DisableDHT turns off the Kademlia DHT (topics are then found by mDNS
	// and explicit peers only).
	DisableDHT bool
	// DHTServer runs the DHT in server mode (answers queries, stores
	// provider records). Default: client mode, unless BootstrapPeers is
	// empty (then this peer is a bootstrap node and serves).
	DHTServer bool
	// DHTProtocolPrefix namespaces the DHT. Default "/folio", so folio's
	// DHT never mixes with the public IPFS one.
	DHTProtocolPrefix string
	// BootstrapPeers seed the DHT. Default: none.
	BootstrapPeers []peer.AddrInfo
	// KnownPeers are peers met before, the most recently connected first
	// (the vault passes those its peerstore remembers). On start each is
	// dialed and handshaken, and redialed on the Backoff schedule until it
	// answers or the schedule ends (as a discovered peer); those the
	// host's peerstore lists with the DHT protocol seed the DHT beside
	// BootstrapPeers, so a restart needs no bootstrap node while known
	// peers are up. Their addresses, if given, are stored with
	// peerstore.AddressTTL. Default: none.
	KnownPeers []peer.AddrInfo
	// DisableMDNS turns off LAN discovery by multicast DNS.
	DisableMDNS bool
	// MDNSService is the mDNS service name. Default "_folio._udp".
	MDNSService string
	// RefreshInterval is the longest wait between discovery rounds of a
	// topic; the first rounds come sooner (after 250 ms, then on the
	// Backoff schedule: 1 s, 5 s, 15 s, 1 min, …).
	// Default 5 min.
	RefreshInterval time.Duration

	// Listener hears about peers. Default: none.
	Listener *EventListener
}

// HostOptions builds the libp2p host of a Swarm that was not handed one.
type HostOptions struct {
	// PrivateKey is the peer's identity. Default: a fresh Ed25519 key.
	PrivateKey crypto.PrivKey
	// Peerstore stores what the host learns about peers. Default:
	// go-libp2p's in-memory peerstore.
	Peerstore peerstore.Peerstore
	// ListenAddrs are multiaddrs to listen on. Default: TCP and QUIC on
	// every IPv4 and IPv6 interface, random ports.
	ListenAddrs []string
	// ResourceLimits bound connections, streams and memory. Default:
	// go-libp2p's default limits scaled to this machine, raised where
	// they would not hold Options.MaxPeers connections (limits.go).
	ResourceLimits *rcmgr.ConcreteLimitConfig
	// Security lists the security transports of TCP connections, the
	// preferred first: SecurityNoise, SecurityTLS or both (security.go).
	// A dialer proposes its first and the listener takes it if it speaks
	// it, else the next; so two hosts that prefer differently still
	// connect. Default: DefaultSecurity(), TLS then Noise.
	Security []protocol.ID
	// DisableRelay turns off dialing through circuit relays (v2). Relay
	// dialing is on by default, as in go-libp2p.
	DisableRelay bool
	// RelayService makes this host a circuit relay (v2) for others.
	RelayService bool
	// HolePunching turns on DCUtR hole punching through relays.
	HolePunching bool
	// AutoNAT turns on AutoNAT (v2): reachability checks for others and
	// for this host.
	AutoNAT bool
}

// EventListener holds callbacks for swarm events; each may be nil. They
// run on the swarm's goroutines and must be quick.
type EventListener struct {
	// Connected: the first connection to remote opened.
	Connected func(remote peer.ID)
	// Disconnected: the last connection to remote closed.
	Disconnected func(remote peer.ID)
	// Handshaken: a handshake with remote finished; it may repeat for the
	// same peer (each side may start one, and Introduce starts another).
	Handshaken func(h Handshake)
	// HandshakeFailed: a handshake with remote failed (bad message,
	// timeout, refusal). The connection stays.
	HandshakeFailed func(remote peer.ID, err error)
	// Refused: the firewall or the peer limit refused remote.
	Refused func(remote peer.ID, reason error)
	// DialFailed: a dial attempt to a wanted peer failed; next is the wait
	// before the next one (0: given up).
	DialFailed func(remote peer.ID, attempt int, next time.Duration, err error)
}

// JoinOptions says how to take part in a topic. Both false means both true.
type JoinOptions struct {
	// Server announces this peer under the topic.
	Server bool
	// Client looks the topic up and dials the peers found.
	Client bool
}

const (
	defaultMaxPeers         = 64
	defaultHandshakeTimeout = 10 * time.Second
	defaultDialTimeout      = 10 * time.Second
	defaultMaxMessageSize   = 1 << 20
	defaultRefresh          = 5 * time.Minute
	defaultDHTPrefix        = "/folio"
	defaultMDNSService      = "_folio._udp"
)

var defaultBackoff = []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, time.Minute, 5 * time.Minute}

func (o *Options) withDefaults() Options {
	r := Options{}
	if o != nil {
		r = *o
	}
	if r.MaxPeers <= 0 {
		r.MaxPeers = defaultMaxPeers
	}
	if len(r.Backoff) == 0 {
		r.Backoff = defaultBackoff
	}
	if r.HandshakeTimeout <= 0 {
		r.HandshakeTimeout = defaultHandshakeTimeout
	}
	if r.DialTimeout <= 0 {
		r.DialTimeout = defaultDialTimeout
	}
	if r.MaxMessageSize <= 0 {
		r.MaxMessageSize = defaultMaxMessageSize
	}
	if r.RefreshInterval <= 0 {
		r.RefreshInterval = defaultRefresh
	}
	if r.DHTProtocolPrefix == "" {
		r.DHTProtocolPrefix = defaultDHTPrefix
	}
	if r.MDNSService == "" {
		r.MDNSService = defaultMDNSService
	}
	if r.Listener == nil {
		r.Listener = &EventListener{}
	}
	if r.Offer == nil {
		r.Offer = func(peer.ID) []ed25519.PublicKey { return nil }
	}
	if r.Accept == nil {
		r.Accept = func(peer.ID, Introduction) error { return nil }
	}
	if r.Firewall == nil {
		r.Firewall = func(peer.ID) bool { return true }
	}
	return r
}
