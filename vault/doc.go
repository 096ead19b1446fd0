// Package vault wires one peer together: its identity, DB, peerstore,
// libp2p host, swarm and replication. It is the only place where db and
// io meet.
//
// # On disk
//
//	dir/identity.key  the peer's Ed25519 key, libp2p's protobuf encoding,
//	                  mode 0600 (a key file others may read is refused)
//	dir/db/           the Pebble DB (its lock keeps a second process out)
//	dir/holder        who has the vault open: "folio send (pid 1234)",
//	                  written once the lock is taken, removed before it is
//	                  released; a second process's ErrLocked names it
//
// Inside the DB: the peerstore's journal ("private/peerstore"), the
// profile book ("profile"), and the application's books. Books whose names
// start with "private/" are never offered to anyone.
//
// # Wiring
//
// The libp2p host uses the vault's key and folio's peerstore, whose events
// go to the host's event bus (peerstore.AttachHost). On start the swarm
// redials the peers the peerstore remembers, the most recently connected
// first (Options.RedialPeers, 32), and the DHT servers among them seed the
// DHT: after a restart the vault finds its peers again even with every
// bootstrap node down. The swarm
// offers the books Options.Offer names (by default every non-private
// book) in each handshake (discovery keys with proofs; only peers that
// know a key can match it) and keeps the
// introductions Options.Accept approves. For every handshake the vault
// opens the introduced books (read-only) and replicates the shared and
// introduced books with that peer: one replication session (db.Replicate
// on a /folio/replicate/2.0.0 stream) per peer, opened by the peer with
// the smaller ID, books added to it as they become shared. Introduce hands
// books to a peer and replicates them.
//
// # Profile
//
// The profile book holds the peer's profile records (vault/pb.Profile:
// name, status, dial addresses, time); the newest page is current. The
// vault appends one on creation, when the name or status change, and when
// the host's addresses change.
//
// # Offline first
//
// Every local operation (books, appends, reads) works with no network at
// all; replication catches up when peers meet again. Options.Offline
// opens the vault without starting the network at all: no host, nothing
// listening, no mDNS or DHT traffic; Host and Swarm are nil, Introduce
// and Connect return ErrOffline, Addrs are the ones the profile recorded
// when the network last ran. Commands that only read or write the local
// books (folio id, task, send, log) open it so.
package vault
