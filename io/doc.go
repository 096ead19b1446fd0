// Package io is folio's connector: a small hyperswarm-like layer on
// go-libp2p that brings together peers interested in the same topics and
// books. Inside folio, import it as folioio where the standard library's
// io is needed too.
//
// # Topics and discovery
//
// A topic is 32 bytes: a book's discovery key or any app-chosen value.
// Join announces this peer under a topic (server mode) and looks the topic
// up and dials the peers found (client mode). Peers are found by
//
//   - the Kademlia DHT (go-libp2p-kad-dht, protocol prefix "/folio", so
//     it never mixes with the public IPFS DHT), bootstrapped from
//     Options.BootstrapPeers, through go-libp2p's routing discovery: the
//     namespace of a topic is "folio/topic/" + hex(topic);
//   - multicast DNS on the LAN (go-libp2p's p2p/discovery/mdns): LAN
//     peers are dialed while a topic is joined as a client, and dropped if
//     the handshake shows nothing in common;
//   - explicit peers (JoinPeer);
//   - known peers (Options.KnownPeers): peers met before a restart, which
//     a persistent peerstore remembers. They are redialed on start, and
//     the DHT servers among them seed the DHT beside the bootstrap peers,
//     so a restarted peer finds the network again with no bootstrap node
//     while peers it knew are up (known.go).
//
// Each can be turned off. A topic's discovery runs in rounds, soon after
// Join and then less often; Flush waits for the current round, so a caller
// can tell "no peers" from "not yet".
//
// # Connections
//
// One connection per remote peer: when two peers dial each other at once,
// the one with the smaller ID keeps the connection it dialed and closes
// the other once no stream runs on it (at most HandshakeTimeout later),
// so nothing under way there is cut. The firewall (Options.
// Firewall) refuses a peer before any handshake: in the security handshake
// when the Swarm built the host, at the first connection otherwise. Wanted
// peers (explicit, or found for a topic) are redialed when the connection
// drops, after 1 s, 5 s, 15 s, 1 min, 5 min (Options.Backoff); explicit
// peers for ever at the last interval, discovered ones until the schedule
// ends; known peers as discovered ones, until they first answer.
// Options.MaxPeers bounds the peers handshaken at once.
//
// TCP connections are secured by TLS 1.3 or Noise (HostOptions.Security,
// default TLS first, then Noise, as go-libp2p's default and folio before
// the option; QUIC brings its own TLS). multistream-select takes the
// dialer's first choice that the listener speaks, so a peer configured
// otherwise (Noise first, TLS only) connects as before; two peers with
// no transport in common do not connect. Noise first was measured and
// not taken: it costs more CPU per connection here (security.go).
//
// # The handshake of book IDs
//
// The only thing this package says on a connection is the handshake
// (protocol /folio/handshake/1.0.0): one stream, one Hello each way, the
// initiator first, each an unsigned varint length and a protobuf Hello
// (io/pb/handshake.proto), at most Options.MaxMessageSize bytes, within
// Options.HandshakeTimeout. A Hello carries:
//
//   - books: for each book the application offers to this peer
//     (Options.Offer), its discovery key and a proof of knowing its key,
//     BLAKE2b-256 keyed with the book key over
//     NS ‖ u16 len ‖ sender ID ‖ u16 len ‖ receiver ID; the proof names
//     both peers, so it is worthless on any other connection. The shared
//     books are those both sides offered with a valid proof; anything else
//     is dropped and never echoed (each side's Hello depends only on its
//     own offer).
//   - topics: for each joined topic, the same kind of proof keyed with the
//     topic, so only a peer that joined the topic recognises it.
//   - introductions: book keys handed to this particular, authenticated
//     peer, each with an optional token (for example proof of an invite's
//     secret) and application metadata; the receiver's Options.Accept
//     decides which to keep. Introduce sends them in a new handshake, or
//     briefly (below).
//
// The outcome (Handshake: shared topics, shared books, kept introductions)
// goes to EventListener.Handshaken; the vault starts replication from it.
// The responder records the outcome before it answers (and takes it back
// if the answer cannot be sent): once the initiator has the answer, each
// side lists the other in Peers and counts it against MaxPeers.
// Pages and notifications are not this package's business.
//
// # Introductions on a handshaken connection
//
// A handshake restates every book shared with the remote (a proof and a
// discovery key each), so a messenger that introduces one new book per
// task to a peer it shares T tasks with would pay O(T) per task that way.
// When a handshake holds on the current connection and the remote lists
// IntroduceProtocol (/folio/introduce/1.0.0, learnt by libp2p's identify),
// Introduce sends instead one Hello carrying the introductions alone on
// that protocol; the answer carries the rejections alone. Books or topics
// in it are a protocol error. Both sides report it as a Handshake with
// Brief set and no Topics or Shared, and record nothing: the connection's
// last full handshake stands. An older peer does not list the protocol
// and gets a full handshake; if its list was stale, the negotiation
// refuses the stream before anything reaches its handler, and Introduce
// handshakes instead.
package io
