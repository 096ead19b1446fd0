package io

import (
	"context"
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"

	dht "github.com/libp2p/go-libp2p-kad-dht"
)

// Swarm connects this peer to peers interested in the same topics and
// books, and runs the handshake of book IDs with each. It is safe for
// concurrent use.
type Swarm struct {
	o       Options
	h       host.Host
	ownHost bool
	dht     *dht.IpfsDHT
	disc    *drouting.RoutingDiscovery
	mdns    mdns.Service
	notify  *network.NotifyBundle

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	topics map[[32]byte]*topic
	peers  map[peer.ID]*remote
	// lan holds the peers mDNS found, which it reports only once.
	lan map[peer.ID]peer.AddrInfo
	// booted is closed once the DHT bootstrap peers were tried.
	booted chan struct{}
	// retiring holds the duplicate connections waiting to be closed.
	retiring map[string]bool
}

// remote is what the swarm knows about one peer it wants or met.
type remote struct {
	explicit  bool              // JoinPeer
	known     bool              // Options.KnownPeers, until first connected
	topics    map[[32]byte]bool // found under these client topics
	lan       bool              // found by mDNS
	dialing   bool              // a dialer goroutine runs for it
	firstTry  chan struct{}     // closed after the dialer's first attempt
	connected bool
	// handshaken is set while a handshake result holds for the current
	// connection.
	handshaken bool
	last       Handshake
	recorded   uint64 // handshakes recorded, so an undo spares a newer one
	admitting  int    // handshakes under way (counted against MaxPeers)
}

func (r *remote) wanted() bool { return r.explicit || r.known || r.lan || len(r.topics) > 0 }

// New starts a Swarm. With o.Host nil it builds and owns a host.
func New(ctx context.Context, o *Options) (*Swarm, error) {
	opts := o.withDefaults()
	s := &Swarm{o: opts, h: opts.Host, topics: map[[32]byte]*topic{}, peers: map[peer.ID]*remote{}, lan: map[peer.ID]peer.AddrInfo{}, booted: make(chan struct{}), retiring: map[string]bool{}}
	if s.h == nil {
		h, err := newHost(opts.HostOptions, opts.MaxPeers, opts.Firewall, func(p peer.ID) {
			if f := opts.Listener.Refused; f != nil {
				f(p, ErrFirewall)
			}
		})
		if err != nil {
			return nil, err
		}
		s.h, s.ownHost = h, true
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.notify = &network.NotifyBundle{ConnectedF: s.onConnected, DisconnectedF: s.onDisconnected}
	s.h.Network().Notify(s.notify)
	s.h.SetStreamHandler(HandshakeProtocol, s.handleStream)
	s.h.SetStreamHandler(IntroduceProtocol, s.handleIntroduce)

	if !opts.DisableDHT {
		mode := dht.ModeClient
		if opts.DHTServer || len(opts.BootstrapPeers) == 0 {
			mode = dht.ModeServer
		}
		d, err := dht.New(s.ctx, s.h,
			dht.Mode(mode),
			dht.ProtocolPrefix(protocolID(opts.DHTProtocolPrefix)),
			dht.BootstrapPeers(opts.BootstrapPeers...),
		)
		if err != nil {
			s.shutdown()
			return nil, fmt.Errorf("io: dht: %w", err)
		}
		s.dht, s.disc = d, drouting.NewRoutingDiscovery(d)
		s.wg.Add(1)
		go s.bootstrap()
	} else {
		close(s.booted)
	}
	if !opts.DisableMDNS {
		s.mdns = mdns.NewMdnsService(s.h, opts.MDNSService, mdnsNotifee{s})
		if err := s.mdns.Start(); err != nil {
			s.shutdown()
			return nil, fmt.Errorf("io: mdns: %w", err)
		}
	}
	s.redialKnown()
	return s, nil
}

// Host is the swarm's libp2p host.
func (s *Swarm) Host() host.Host { return s.h }

// ID is this peer's ID.
func (s *Swarm) ID() peer.ID { return s.h.ID() }

// Close leaves every topic, stops discovery and dialing and, when the
// Swarm built its host, closes it. It waits for the swarm's goroutines.
func (s *Swarm) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	return s.shutdown()
}

func (s *Swarm) shutdown() error {
	s.cancel()
	var err error
	if s.mdns != nil {
		err = s.mdns.Close()
	}
	s.h.RemoveStreamHandler(HandshakeProtocol)
	s.h.RemoveStreamHandler(IntroduceProtocol)
	s.wg.Wait()
	if s.dht != nil {
		if e := s.dht.Close(); err == nil {
			err = e
		}
	}
	s.h.Network().StopNotify(s.notify)
	if s.ownHost {
		if e := s.h.Close(); err == nil {
			err = e
		}
	}
	return err
}

// bootstrap connects to the DHT's bootstrap peers and starts its
// routing-table maintenance.
func (s *Swarm) bootstrap() {
	defer s.wg.Done()
	defer close(s.booted)
	var wg sync.WaitGroup
	for _, ai := range s.o.BootstrapPeers {
		if ai.ID == s.h.ID() {
			continue
		}
		s.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
		wg.Go(func() { s.seedDHT(ai) })
	}
	for _, ai := range s.knownDHTServers() {
		wg.Go(func() { s.seedDHT(ai) })
	}
	wg.Wait()
	_ = s.dht.Bootstrap(s.ctx)
}

// Peers returns the peers handshaken on their current connection, with
// their latest handshake.
func (s *Swarm) Peers() []Handshake {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Handshake
	for _, r := range s.peers {
		if r.handshaken {
			out = append(out, r.last)
		}
	}
	return out
}

func (s *Swarm) remoteLocked(p peer.ID) *remote {
	r := s.peers[p]
	if r == nil {
		r = &remote{topics: map[[32]byte]bool{}}
		s.peers[p] = r
	}
	return r
}

// forgetLocked drops what is known of p once nothing refers to it.
func (s *Swarm) forgetLocked(p peer.ID) {
	if r := s.peers[p]; r != nil && !r.wanted() && !r.dialing && !r.connected && r.admitting == 0 {
		delete(s.peers, p)
	}
}

func (s *Swarm) onConnected(_ network.Network, c network.Conn) {
	p := c.RemotePeer()
	if !s.o.Firewall(p) {
		// A host handed in has no gater of ours: refuse here.
		_ = c.Close()
		if f := s.o.Listener.Refused; f != nil {
			f(p, ErrFirewall)
		}
		return
	}
	s.mu.Lock()
	r := s.remoteLocked(p)
	first := !r.connected
	r.connected = true
	s.mu.Unlock()
	s.dedupe(p)
	if first {
		if f := s.o.Listener.Connected; f != nil {
			f(p)
		}
	}
}

func (s *Swarm) onDisconnected(n network.Network, c network.Conn) {
	p := c.RemotePeer()
	if n.Connectedness(p) == network.Connected {
		return
	}
	s.mu.Lock()
	r := s.peers[p]
	if r == nil || !r.connected {
		s.mu.Unlock()
		return
	}
	r.connected, r.handshaken = false, false
	redial := r.wanted() && !r.dialing && !s.closed
	if redial {
		s.startDialerLocked(p, r, s.o.Backoff[0])
	}
	s.forgetLocked(p)
	s.mu.Unlock()
	if f := s.o.Listener.Disconnected; f != nil {
		f(p)
	}
}
