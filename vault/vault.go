package vault

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/db/peerstore"
	folioio "github.com/folio-p2p/folio/io"
)

// Vault is one peer: identity, DB, peerstore, libp2p host, swarm and
// replication. It is safe for concurrent use.
type Vault struct {
	dir     string
	o       Options
	key     crypto.PrivKey
	id      peer.ID
	created bool
	holder  bool // this process wrote the holder file
	db      *db.DB
	ps      *peerstore.Peerstore
	swarm   *folioio.Swarm
	profile *book.Book

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	sessions map[peer.ID]*db.Session
	// books are the books replicated with each peer: every new session
	// with it opens them all.
	books   map[peer.ID]map[string]ed25519.PublicKey
	opening map[peer.ID]bool // a session stream is being opened
}

// Open opens the vault in dir, creating it on first use, and starts the
// peer: its swarm listens, discovers and handshakes, and replication runs
// for every book shared with or introduced by a peer. With
// Options.Offline nothing of the network starts.
func Open(ctx context.Context, dir string, o *Options) (*Vault, error) {
	opts := Options{}
	if o != nil {
		opts = *o
	}
	if opts.Listener == nil {
		opts.Listener = &EventListener{}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	v := &Vault{dir: dir, o: opts, sessions: map[peer.ID]*db.Session{}, books: map[peer.ID]map[string]ed25519.PublicKey{}, opening: map[peer.ID]bool{}}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	// The DB's directory lock comes first: a second process stops here,
	// before touching anything else.
	dbOpts := opts.DB
	if dbOpts == nil {
		dbOpts = &db.Options{NoWALRecycling: true}
	}
	d, err := db.Open(filepath.Join(dir, dbDir), dbOpts)
	if err != nil {
		v.cancel()
		if errors.Is(err, db.ErrLocked) {
			return nil, lockedError(dir, err)
		}
		return nil, fmt.Errorf("vault: open %s: %w", dir, err)
	}
	v.db = d
	v.writeHolder()
	fail := func(err error) (*Vault, error) {
		v.shutdown()
		return nil, err
	}
	if v.key, v.created, err = loadOrCreateKey(dir); err != nil {
		return fail(err)
	}
	if v.id, err = peer.IDFromPrivateKey(v.key); err != nil {
		return fail(fmt.Errorf("vault: identity: %w", err))
	}
	pso := peerstore.Options{}
	if opts.Peerstore != nil {
		pso = *opts.Peerstore
	}
	pso.Name = PrivatePrefix + "peerstore"
	if v.ps, err = peerstore.Open(ctx, d, &pso); err != nil {
		return fail(fmt.Errorf("vault: peerstore: %w", err))
	}
	if !opts.Offline {
		if err := v.startSwarm(ctx); err != nil {
			return fail(err)
		}
	}
	if v.profile, err = v.db.Book(ctx, profileName); err != nil {
		return fail(fmt.Errorf("vault: profile: %w", err))
	}
	if err := v.startProfile(ctx); err != nil {
		return fail(err)
	}
	return v, nil
}

// startSwarm starts the libp2p host and the swarm: listening, discovery,
// handshakes, and replication on every connection.
func (v *Vault) startSwarm(ctx context.Context) error {
	opts := v.o
	so := folioio.Options{
		BootstrapPeers: opts.BootstrapPeers,
		KnownPeers:     v.knownPeers(),
		DHTServer:      opts.DHTServer,
		DisableDHT:     opts.DisableDHT,
		DisableMDNS:    opts.DisableMDNS,
	}
	if opts.Swarm != nil {
		opts.Swarm(&so)
	}
	so.Host = nil
	so.HostOptions.PrivateKey = v.key
	so.HostOptions.Peerstore = v.ps
	if len(opts.ListenAddrs) > 0 {
		so.HostOptions.ListenAddrs = opts.ListenAddrs
	}
	so.Offer = v.offer
	so.Accept = v.accept
	so.Listener = &folioio.EventListener{Handshaken: v.onHandshaken, Disconnected: v.onDisconnected}
	var err error
	if v.swarm, err = folioio.New(ctx, &so); err != nil {
		return err
	}
	v.swarm.Host().SetStreamHandler(db.ProtocolID, v.handleReplicate)
	// The peerstore's events go where the host's users look.
	return v.ps.AttachHost(v.swarm.Host())
}

// defaultRedialPeers is Options.RedialPeers' default.
const defaultRedialPeers = 32

// knownPeers returns the peers to redial on start: the most recently
// connected the peerstore remembers, at most Options.RedialPeers.
func (v *Vault) knownPeers() []peer.AddrInfo {
	n := v.o.RedialPeers
	switch {
	case n < 0:
		return nil
	case n == 0:
		n = defaultRedialPeers
	}
	var out []peer.AddrInfo
	for _, rp := range v.ps.RecentPeers(n) {
		if rp.ID != v.id {
			out = append(out, rp.AddrInfo)
		}
	}
	return out
}

// Close stops the swarm, ends replication, flushes the peerstore's journal
// and closes the DB.
func (v *Vault) Close() error {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return nil
	}
	v.closed = true
	v.mu.Unlock()
	return v.shutdown()
}

func (v *Vault) shutdown() error {
	v.cancel()
	var errs []error
	if v.swarm != nil {
		v.swarm.Host().RemoveStreamHandler(db.ProtocolID)
		errs = append(errs, v.swarm.Close())
	}
	v.mu.Lock()
	sessions := make([]*db.Session, 0, len(v.sessions))
	for _, s := range v.sessions {
		sessions = append(sessions, s)
	}
	v.mu.Unlock()
	for _, s := range sessions {
		s.Close()
	}
	v.wg.Wait()
	if v.ps != nil {
		errs = append(errs, v.ps.Close())
	}
	if v.db != nil {
		v.removeHolder() // while the lock still keeps others out
		errs = append(errs, v.db.Close())
	}
	return errors.Join(errs...)
}

// Dir is the vault's directory.
func (v *Vault) Dir() string { return v.dir }

// ID is the peer's libp2p ID.
func (v *Vault) ID() peer.ID { return v.id }

// Created reports whether this Open created the vault.
func (v *Vault) Created() bool { return v.created }

// DB is the vault's DB.
func (v *Vault) DB() *db.DB { return v.db }

// Peerstore is the vault's peerstore (also the host's).
func (v *Vault) Peerstore() *peerstore.Peerstore { return v.ps }

// Host is the vault's libp2p host; nil when Offline.
func (v *Vault) Host() host.Host {
	if v.swarm == nil {
		return nil
	}
	return v.swarm.Host()
}

// Swarm is the vault's connector; nil when Offline.
func (v *Vault) Swarm() *folioio.Swarm { return v.swarm }

// Offline reports whether the vault was opened with Options.Offline.
func (v *Vault) Offline() bool { return v.swarm == nil }

// Addrs are the addresses others dial this peer at: the host's, or when
// Offline the ones the profile recorded the last time the network ran
// (none if it never did; they may be stale).
func (v *Vault) Addrs() []ma.Multiaddr {
	if v.swarm != nil {
		return v.swarm.Host().Addrs()
	}
	if v.profile == nil {
		return nil
	}
	if p, _, err := v.Profile(v.ctx); err == nil {
		return p.Addrs
	}
	return nil
}

// AddrInfo is how others dial this peer (see Addrs).
func (v *Vault) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: v.id, Addrs: v.Addrs()}
}

// offer is the swarm's Offer: Options.Offer, or every book of the DB but
// the private ones. Offering reveals discovery keys only; a book is shared
// only with a peer that proves it knows the key.
func (v *Vault) offer(remote peer.ID) []ed25519.PublicKey {
	if v.o.Offer != nil {
		return v.o.Offer(remote)
	}
	infos, err := v.db.Books()
	if err != nil {
		return nil
	}
	keys := make([]ed25519.PublicKey, 0, len(infos))
	for _, in := range infos {
		if in.Writable && strings.HasPrefix(in.Name, PrivatePrefix) {
			continue
		}
		keys = append(keys, in.Key)
	}
	return keys
}

func (v *Vault) accept(remote peer.ID, in folioio.Introduction) error {
	if v.o.Accept == nil {
		return errNoIntroductions
	}
	return v.o.Accept(remote, in)
}

var errNoIntroductions = errors.New("this peer takes no introductions")

func (v *Vault) reportError(err error) {
	if f := v.o.Listener.Error; f != nil && err != nil {
		f(err)
	}
}
