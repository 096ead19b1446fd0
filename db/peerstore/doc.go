// Package peerstore is go-libp2p's peerstore (core/peerstore.Peerstore and
// CertifiedAddrBook) whose books are in-memory projections of a journal
// book: any libp2p host can use it (libp2p.Peerstore(ps)), and it comes
// back after a restart.
//
// # Design
//
// The four books of the libp2p design — addresses (with the signed peer
// records), keys, protocols, metadata — live in memory, and every read is
// served from there without touching Pebble. Every change is appended to a
// journal: a writable book of the DB (Options.Name, "peerstore"), whose
// pages are protobuf messages (pb/peerstore.proto). Open folds the journal
// back into memory.
//
// The in-memory books keep go-libp2p v0.51.0 pstoremem's layout and
// algorithms (a map per peer and one expiry heap for addresses, 256 locked
// segments for protocols), so reads cost what pstoremem's cost and the
// semantics are the same: TTLs decided on read against Options.Clock;
// AddAddrs never shortens a TTL or expiry; SetAddrs overwrites and a TTL <= 0
// deletes; UpdateAddrs moves addresses from one TTL to another; per-peer,
// global and signed-record caps, with nearest-expiry eviction, that can be
// turned off; ConsumePeerRecord with sequence numbers and eviction of the
// addresses a newer record no longer lists; RemovePeer keeps addresses;
// AddrStream (pstoremem's own AddrSubManager) never blocks writers. The
// latency EWMA is go-libp2p's own Metrics, in memory only.
//
// The books are a port rather than pstoremem itself, for three concrete
// reasons: pstoremem hides each address's TTL and expiry, which the
// journal must record (absolute expiry times, so that a fold keeps the
// remaining TTL) and which change inside AddAddrs, the caps and record
// eviction where a wrapper cannot see them; its metadata book cannot list
// a peer's keys, so neither a checkpoint nor GetPeer could enumerate them;
// and its key book cannot tell a stored key from one derived from the ID.
// Shadowing that state beside pstoremem would double the memory per peer.
// The port is checked against pstoremem itself: go-libp2p's suites, and a
// randomized model test running both side by side.
//
// # Evict, don't forget
//
// go-libp2p drops from its peerstore what a running host no longer needs:
// its peerstore manager calls RemovePeer a minute after a peer
// disconnects and for every disconnected peer on Close, and addresses
// expire. The live books do the same (pstoremem's semantics, which the
// suites check). But the libp2p peer-store design persists peers so that
// a peer rejoins the network quickly after being offline, and what it
// needs for that — the peer's key, last addresses, protocols, metadata,
// when it was last connected — is exactly what was dropped. So RemovePeer
// and expiry evict rather than delete: the journal keeps the evicted
// state as the peer's dormant record (dormant.go), restated by its pages
// and checkpoints until a live change replaces it, and Open brings it
// back. Only DeletePeer (Forget) erases. RecentPeers lists the peers seen
// connected, newest first, with their addresses (the dormant ones when
// none is valid): the vault redials them on start.
//
// Downtime does not expire the way back (reopen.go): on reopen, peers
// connected or recently connected when the peerstore last wrote (the
// latest page's time) keep their addresses for at least
// RecentlyConnectedAddrTTL from the reopen, and connected-TTL addresses,
// which no connection holds any more, are lowered to that TTL (never
// kept as permanent, and counted by the caps again). Options.ExactReopen
// turns this off.
//
// The core (projection.go and the *book.go files, codec.go) is
// deterministic: no goroutine, no storage, the clock injected. The shell
// (peerstore.go, journal.go, checkpoint.go, replay.go) adds the flusher,
// the collector of expired addresses (every Options.GCInterval, as
// pstoremem) and the events.
//
// # Writes and batching
//
// A write changes the books at once, under the book's lock, and marks the
// peer's changed books dirty (tracker.go; the address book, the hot one,
// keeps its mark beside each peer's entries, so marking costs no extra
// lookup); it never waits for the journal. One goroutine flushes:
// Options.FlushDelay (50 ms) after the first change, or as soon as
// Options.FlushChanges (512) peers have changes waiting, or on Flush and
// Close. A flush takes the dirty set and appends one page per dirty peer,
// restating those books' current state, all in one Append: one Pebble
// batch, one signature. Since a page restates state rather than replaying
// an operation, repeated changes to a peer between two flushes cost one
// page, and the dirty set never holds more than the number of peers
// however fast the writes come. Under sustained load the flusher rests
// after each flush three times as long as the flush took, so the journal
// takes at most about a quarter of a core and each flush coalesces more. Pages are encoded
// straight into reused buffers (encode.go), to keep the garbage, and so
// the cost to writers, low; a flush of thousands of peers (Close with a
// backlog) is captured and encoded by up to four goroutines, each with a
// share of the peers (parallel.go), then appended as one series. A flush that fails is retried with backoff;
// the dirty peers are kept. Multi-book calls (RemovePeer, SetPeer,
// MergePeer, DeletePeer) hold a gate that a flush waits for, so a flush
// never sees one half done.
//
// # Crash guarantees
//
// An Append is atomic and synced (unless the DB was opened with NoSync):
// after a crash the journal holds every flush that completed, and nothing
// of a flush that did not. So a crash loses at most the changes made after
// the last completed flush began: FlushDelay of changes (50 ms by
// default; more under sustained load, when the flusher rests between
// flushes), and what a flush in progress was writing. Changes made before
// that moment are all kept; of the later ones, each restored book of each
// peer is in a state it really had, at that moment or later, and a
// multi-book call is kept whole or not at all. Flush waits until every
// change made before it is durable. Pages are never torn.
//
// # Journal format
//
// Every page is one pb.Page{version: 1, time, body}; time is the
// writer's Options.Clock, and the latest one is when the peerstore last
// wrote (the reopen rule counts downtime from it). The body is one of:
//
//   - Peer: one peer's books named by its books bit set (1 addresses and
//     signed record, 2 public key, 4 protocols, 8 metadata), each
//     restated whole; a named book left empty is cleared. A book RemovePeer
//     evicted is restated with its dormant state. Addresses are
//     parallel lists of multiaddr bytes, TTL and absolute expiry (Unix
//     seconds and nanoseconds on Options.Clock), so that folding after a
//     restart keeps the right remaining TTL; expired ones are kept (a
//     peer's dormant addresses) until a live change replaces them. With
//     the addresses goes last_connected, when the peer last held a
//     connection (Unix nanoseconds on Options.Clock). The signed record is the
//     envelope's bytes and its sequence number. Protocols (a sorted
//     StringList) and metadata (a MetaList sorted by key) are embedded as
//     bytes so that the fold decodes each distinct set once and peers share
//     it. Metadata values carry their Go type (values.go lists the types
//     kept; Put refuses others with ErrUnsupportedValue).
//   - Checkpoint: the start of a checkpoint, with its number of peers.
//   - Chunk: part of a checkpoint: many Peer messages, every book named.
//
// Private keys are never written to a page: AddPrivKey keeps them in
// memory (the host adds its own again on every start). Latency samples
// are not journaled either.
//
// # Checkpoints and folding
//
// Once Options.CheckpointEvery (2,000) change pages follow the last
// checkpoint, and the stored journal is at least 1.5 times the size a
// checkpoint would have (so that a checkpoint always shrinks the journal
// by a third or more, and a large projection is not rewritten for a
// little churn), the flusher writes a checkpoint: a Checkpoint page, then
// Chunk pages restating every peer, live or dormant (Options.MaxPageSize
// each), into a new generation of the journal — a new book, Options.Name
// + "~" + the generation in 16 hex digits — and only then deletes the
// previous book (one range deletion, synced, then a compaction of its
// range; generation.go). The journal's disk use so follows the live state
// (the DB's write-ahead logs are the DB's: a vault opens it with
// db.Options.NoWALRecycling, so that no used log is kept for reuse): clearing
// pages inside one book (book.Clear) would keep each cleared page's leaf
// hash and tree nodes for ever. Opening never folds much more than 1.5
// times the projection. Writers are not stopped meanwhile: a peer changed
// during the checkpoint is dirty, and its change page follows the chunks,
// so folding in page order from the Checkpoint page gives the live state.
// Nothing is deleted until every chunk is appended; a crash in between
// leaves two generations, and Open takes the older (complete) one and
// deletes the newer. With Options.NoClear the checkpoint is written in
// the same book and nothing is deleted.
//
// Open folds the current generation from its first stored page, found by
// binary search (a few reads; a journal written before generations may
// have a cleared prefix): page 0 or a Checkpoint page. It reads the pages with one iterator
// (book.Snapshot.Pages), decodes them on every core and applies them in
// order; peers with the same protocol set or metadata share one map, and
// the expiry heap is built once at the end.
//
// One codec reads and writes the format, on protowire: encode.go and
// parse.go for pages, metacodec.go for the embedded protocol and
// metadata lists. pb/peerstore.proto is the format's definition and its
// generated code (package pb) is used only by tests, as the reference;
// tools that show pages one by one (devtools' inspector) use
// DecodeJournalPage, the same parser:
// TestMetaCodecMatchesGenerated checks that every metadata kind encodes
// to the generated code's bytes, and the fuzz tests (FuzzDecodePage,
// FuzzDecodeMeta) that whatever the codec accepts, the generated code
// decodes the same. The codec is stricter than protobuf (a singular field
// or a oneof twice, a metadata key twice, a wire type the encoder does not
// write: ErrCorrupt), and treats strings as bytes: a string that is not
// UTF-8 round-trips. Journals written before this codec (the same format,
// version 1, then written partly by the generated code) read unchanged. Folding the
// journal of 100,000 peers takes a few hundred milliseconds
// (BENCHMARKS.md). A page that does not decode fails Open with ErrCorrupt,
// naming the page. Signed records are not verified again on a fold (they
// were when consumed, and the journal is this peer's own signed book);
// addresses that expired while the peerstore was closed are dropped, as
// collection would have. With Options.NoClear nothing is cleared and a
// fold from page 0 must give the same state as the live books: Audit
// checks that.
//
// # Events
//
// Typed events go to Options.EventBus (a new bus by default;
// Peerstore.EventBus returns it): EvtPeerAdded, EvtAddrsChanged,
// EvtProtocolsChanged, EvtPubKeyLearned, EvtMetadataChanged — each only on
// a real change, each with the previous value (events.go). On the default
// bus the peerstore sees every subscription, and does not even build the
// events nobody subscribed to (bus.go); on a bus given in Options it
// always emits them. When the peerstore is a host's (libp2p.Peerstore),
// AttachHost(h) moves the events to h.EventBus(), where the host's users
// look (the vault does it; a host makes its bus itself, so Options cannot
// name it). Collection of expired addresses emits EvtAddrsChanged.
//
// # Beyond the libp2p interface
//
// SetPeer replaces a peer's data as identify does, MergePeer merges it as
// DHT and discovery do, GetPeer returns it (choose the books), DeletePeer
// deletes all or some of it and Forget all of it (the dormant record
// too), ListPeers lists every known peer with its data, RecentPeers the
// peers seen connected, newest first. Flush, Checkpoint, Audit, Metrics
// and Opened serve operators and tests.
//
// # Differences from pstoremem
//
// RemovePeer and expiry evict: the live books forget as pstoremem's do,
// but the next reopen brings the evicted state back (see above). An
// address moved from a connected TTL to a shorter one joins the expiry
// heap (pstoremem forgets it there, so it is never collected). Putting a
// metadata value equal to the stored one keeps the stored one. An empty
// []byte or []string comes back from the journal non-nil. The error for
// too many signed records wraps ErrTooManyRecords. A peer whose state does
// not fit a page (Options.MaxPageSize) is kept in memory but not
// journaled (Metrics.Dropped, Options.OnError). After Close the books
// still answer and change, but nothing more is journaled.
package peerstore
