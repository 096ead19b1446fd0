package vault

import (
	"crypto/ed25519"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/db/peerstore"
	folioio "github.com/folio-p2p/folio/io"
)

// Options configures a vault. Nil and zero fields mean the documented
// defaults.
type Options struct {
	// Name is the profile name written when the vault is created.
	// Default: none.
	Name string
	// Offline opens the vault without the network: identity, DB,
	// peerstore and profile, but no libp2p host (nothing listens), no
	// swarm, no discovery (no mDNS multicast, no DHT) and no replication.
	// Host and Swarm are nil; Introduce and Connect return ErrOffline;
	// Addrs are those the profile recorded when the network last ran, and
	// the profile keeps them. For commands that only read or write the
	// local books: what they write leaves when the vault next runs online
	// and meets its peers. Default: false (the network starts).
	Offline bool
	// Holder describes this process to another that finds the vault
	// locked: its ErrLocked says "held by <Holder> (pid N)". Default: the
	// program's name and its first argument ("folio send").
	Holder string
	// ListenAddrs are the libp2p listen addresses. Default: TCP and QUIC
	// on every interface, random ports (folioio.DefaultListenAddrs).
	ListenAddrs []string
	// BootstrapPeers seed the DHT. Default: none.
	BootstrapPeers []peer.AddrInfo
	// RedialPeers is how many of the peers the peerstore remembers are
	// redialed on start, the most recently connected first (they also seed
	// the DHT when they serve it: folioio.Options.KnownPeers). Negative:
	// none. Default 32.
	RedialPeers int
	// DHTServer runs the DHT in server mode (see folioio.Options).
	DHTServer bool
	// DisableDHT and DisableMDNS turn off those discoveries.
	// ListenAddrs to DisableMDNS and Swarm do nothing when Offline.
	DisableDHT, DisableMDNS bool
	// Swarm, when set, may adjust the swarm's options just before it
	// starts (limits, backoff, firewall). The vault's own fields (Host,
	// Offer, Accept, Listener) are overwritten afterwards.
	Swarm func(*folioio.Options)
	// DB configures the DB. Default: db's defaults with NoWALRecycling
	// (a vault's directory follows its data, not the logs Pebble keeps
	// for reuse: 74 MB each at the default memtable size); a DB given
	// here is used as is.
	DB *db.Options
	// Peerstore configures the peerstore. Its Name is always
	// "private/peerstore". Default: peerstore's defaults.
	Peerstore *peerstore.Options
	// Offer returns the books to offer remote in a handshake (it must be
	// quick). Default: every book but the private ones — which tells every
	// peer met the discovery keys of all of them (never the keys: only a
	// peer that knows a key can match it); an application that knows which
	// books each peer should see offers just those.
	Offer func(remote peer.ID) []ed25519.PublicKey
	// Accept decides whether to keep a book introduced by remote (check
	// an invite's token here): nil keeps it, and it is opened and
	// replicated with remote; an error refuses it and tells remote why.
	// It runs inside the handshake and must be quick. Default: refuse
	// every introduction.
	Accept func(remote peer.ID, in folioio.Introduction) error
	// Listener hears about the vault's peers. Default: none.
	Listener *EventListener
}

// EventListener holds callbacks; each may be nil. They run on the vault's
// goroutines and must be quick.
type EventListener struct {
	// Handshaken: a handshake with a peer finished (after the vault has
	// opened the books it introduced).
	Handshaken func(h folioio.Handshake)
	// SessionStarted and SessionClosed bracket a replication session.
	SessionStarted func(remote peer.ID)
	SessionClosed  func(remote peer.ID, err error)
	// Disconnected: the last connection to remote closed.
	Disconnected func(remote peer.ID)
	// Error: something failed in the background (a book that would not
	// open, a profile page that would not append).
	Error func(err error)
}

// PrivatePrefix starts the names of books that the vault never offers to
// any peer (the peerstore's journal, the messenger's own state).
const PrivatePrefix = "private/"

const (
	keyFile     = "identity.key"
	dbDir       = "db"
	profileName = "profile"
)
