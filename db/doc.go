// Package db holds many books in one Pebble instance: the Go analogue of
// corestore.
//
// One DB is one directory and one Pebble; a lock file keeps a second
// process out (ErrLocked). An idle DB wakes nothing of Pebble's: its
// compaction scheduler (compactsched.go) ticks only while a compaction
// runs, where Pebble's default ticks every 100 ms for the DB's life. On first open the DB creates a random 32-byte
// primary key. A named book's keypair derives from it,
//
//	seed = BLAKE2b-256(key = primary key, namespace ‖ name)
//
// so Book(ctx, "chat") is the same writable book after every restart, and
// no secret key is ever stored or returned: it is derived when the book
// opens. Books opened by key alone (OpenKey) are read-only and grow only by
// verified proofs.
//
// The catalogue records every book: its pointer (a small integer used as
// the book's key prefix), key, discovery key, and for writable books the
// name. See keys.go for the key layout and catalogue.go for the record.
//
// Every append is one atomic Pebble batch (pages, new tree nodes, signed
// head), synced unless Options.NoSync or the append's own option says
// otherwise. DeleteBook and Clear use range deletions and then compact the
// range, so disk space comes back at once.
//
// # Durability of replicated pages
//
// Pages stored by replication are committed at once without an fsync,
// and the DB syncs Pebble's log once per Options.ReplicatedSyncDelay
// (default 100 ms) after the first such commit (replsync.go): a receiver
// pays one fsync per window, not one per message, and no fsync stands
// between a push and its subscribers. What a crash can cost: the pages
// replicated in the last window, never an append of this DB's own (those
// are synced as ever). Pebble's log is ordered, so what survives is a
// prefix: the book reopens at an earlier verified head, audits clean, and
// fetches the rest again from any peer (the author keeps every page).
// Any synced write after a replicated page makes it durable too, so state
// derived from replicated pages and written with sync in the same DB (the
// messenger's read markers and journal) never points past what survived.
// What a receiver said before the crash (its Sync, the pages it served
// to third peers) dies with its sessions: after a restart it announces
// what it holds, and a third peer that holds more lets it catch up.
// Another's book is catalogued the same way when OpenKey first meets it
// (its entry precedes every write to it in the log): a crash in the
// window loses the entry, and the book is met again at the next
// handshake. A book of this DB's own is durable once Book returns.
// A negative ReplicatedSyncDelay syncs every stored proof and every
// entry, as before (TestKill9Replicated,
// TestReplicatedCrashKeepsVerifiedPrefix, TestReplicatedSyncBound,
// TestRegisterDurability).
//
// # Appending to several books at once
//
// AppendMulti appends to several of the DB's writable books as one atomic
// Pebble batch: every book's pages, new tree nodes and signed head, one
// commit, one fsync. After a crash each book holds its share or none does
// (TestAppendMultiCrash, TestAppendMultiErrorFS). Each book still gets
// its own signature (the signed format is per book), made on every core.
// The books are locked in the order of their keys, so multi-book and
// single appends never deadlock; with CheckLength a share fails the whole
// append (book.ErrLengthChanged) and nothing is written. Use it where one
// event writes to many books, like the messenger, whose message goes to
// one book per other member: n−1 appends cost one fsync, not n−1.
//
// # Bulk appends and write pacing
//
// Pebble lets writes run at full speed into a new memtable while the last
// one flushes, and when the new one fills first it holds every write
// until the flush ends: a write stall. A writer faster than the flushes
// (a bulk import: 1,000 pages of 1 KiB per append, millions of pages)
// then sees most appends take milliseconds and one in ~60 take the rest
// of a 64 MiB flush, 100–300 ms here; and so does every other writer of
// the DB, a chat's one-page appends included. The DB paces such a writer
// instead (pacer.go, Options.NoWritePacing): while a full memtable
// flushes, each append waits long enough that the room left before a
// stall fills as the flush is expected to end, at the rate the last
// flushes kept up (with a margin). The wait is spread over the appends in
// proportion to their bytes, so a small append waits little; proofs
// stored by replication are paced the same way. A DB written
// slower than it flushes never waits, and nothing waits until a flush of
// a full memtable has been seen. Pebble's write-ahead log is written back
// every MiB in the background (walBytesPerSync): left to the memtable
// rotation, the sync of a 64 MiB unsynced log took 50–90 ms on the
// committing goroutine.
//
// Costs: per append O(1) (one mutex; a timer while paced); per flush
// O(1). Measured (BENCHMARKS.md, issue 15, stop 26), 3,000,000 pages of
// 1 KiB in appends of 1,000, medians of 5 interleaved runs: p99 121 → 37
// ms (the 100,000-page run's is 22 ms), write stalls ~45 → 0–5; the
// price is throughput, 111 k → 89 k pages/s, since the margin leaves the
// flusher idle at the end of most flushes.
// NoWritePacing gives it back to a bulk writer that has the DB to itself.
//
// # Replication
//
// DB.Replicate runs one session over any byte stream (a libp2p stream with
// ProtocolID in production, net.Pipe in tests); the caller hands it the two
// peers' identities. Every message is an unsigned varint length and one
// protobuf pb.Message (pb/replicate.proto) with exactly one body, at most
// MaxMessageSize bytes. Before a message is parsed its bytes are checked
// (shape.go): any body but Data within 16 KiB; a Data with at most 4,096
// pages and 128 nodes in each list of its proof, since parsed, an empty
// repeated entry costs some 60 times its 2 bytes. Fields this version does
// not know are dropped. The session handles each message as it reads it,
// one at a time, so a remote that sends fast waits on the stream. Data
// messages, nearly all of a download's bytes, are written and read by
// hand in the same protobuf bytes (wire_data.go): pages go from the
// book's arena straight into the frame, and are read back in place.
//
// One session carries every book both sides share, each on a channel. A
// side opens a channel with Open{its channel number, 32-byte discovery key,
// 32-byte capability}; the capability is BLAKE2b-256 keyed with the book
// key over both peer IDs (capability.go), so it proves knowledge of the key
// to this peer only. An Open for a book this DB does not hold is never
// answered — a remote never creates a book here — but the session keeps
// its channel number, discovery key and capability (no more), so that the
// book pairs if it is added and offered here later; at most
// MaxPendingOffers of them (default 4,096). An Open whose capability is not
// 32 bytes or does not prove the key (ErrCapability), a book opened on a
// second channel, or an Open past MaxPendingOffers, or past
// MaxRemoteChannels books this side did not offer (default 4,096), ends
// the session. The receiver answers with its own Open, so channels open
// lazily from either side.
//
// Each side then sends Sync{fork, length, contiguous, follow} and again on
// every change of its book, but for the change a push from the remote
// made (below): the remote knows where its push left us. A follower that holds every page up to the
// length it last told us is caught up: when our book grows by at most 64
// pages, we first push it the new signed head linked from its length with
// the new pages and their range proof, in one Data with id 0 that answers
// no request (session_push.go), so a notification costs one message and no
// round trip. A push that does not start at the receiver's length is
// dropped (the Sync after it still tells); one that does not verify ends
// the session like a false answer. A reader whose peer is ahead sends
// Request{upgrade from its length, and the new pages}; the answer is Data
// carrying a book.Proof: the author's signed head with the nodes linking it
// to the reader's, and a range proof (pages plus two sibling nodes per tree
// level). The book verifies everything before storing it, in one batch, and
// its own subscribers hear of it at once. A follower (the default) then
// asks for every page up to the peer's contiguous prefix, in requests of
// about one answer each (MaxRangeBytes at the book's mean page size), so
// that answers come whole and pages land in order; a sparse session
// asks only for the pages local readers wait for in Book.Get. Every request
// carries an upgrade from the asker's length, so each answer brings the
// answerer's current head linked to the asker's, and pages are always
// proven against the newest head even when the author appended meanwhile.
// A reader that sees a head of a newer fork asks for it alone, keeps the
// pages below the fork point (see package book) and then asks for the
// rest. A reader asks each peer for its head once per change of that
// peer's head, which is how equivocation between two peers is seen. The
// author never asks readers for pages. A relay answers from what it
// stores, with the author's signatures.
//
// Each channel is in one state — offered, paired, live, stalled or closed
// (chanstate.go draws the transitions) — and the session's core (step)
// handles one message at a time: it reads the books' state and leaves, in
// order, the messages to send and the book operations to perform (answer
// a request with a proof, build a push, store a proof from the remote).
// A thin shell sends the messages and performs the operations, feeding
// their results (the proof built, the store's error) back to the core
// (session_ops.go); testdata/session holds scripts that drive the core and
// show both. The reader goroutine steps the core with each message it
// reads, the loop with each local change, in turn (Session.mu); the
// change a proof stored by the reader's step makes is handled in that
// step, without waking the loop.
// A session runs three goroutines however many books it carries (reader,
// writer, loop): a book's change marks its channel dirty through
// book.Watch and wakes the loop once (session_wake.go). The writer is
// woken once a step's whole output is queued, so a push and the Sync
// after it leave in one write. A push's proof is built from the nodes the
// append kept (package book), not read back from Pebble.
//
// Flow control: each side keeps at most MaxInflight requests in flight and
// answers at most MaxRangeBytes of pages per request, so what an honest
// peer can make us queue is bounded; a peer that makes us queue more than
// MaxQueuedBytes (a flood), sends an undecodable or oversize message, or a
// proof that does not verify ends the session and is reported through
// ReplicationListener.PeerError. Every such error matches ErrProtocol; one
// past a bound also matches ErrLimit. Equivocation (two valid signed heads that
// disagree, from any peers) freezes the book with both heads as evidence.
// A slow peer slows only its own session: writers never wait for sessions.
package db
