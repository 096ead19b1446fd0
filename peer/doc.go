// Package peer is folio's task messenger backend: tasks, invites, groups,
// messages and timelines on top of a vault.
//
// # Tasks and books
//
// A task (16 random bytes) has members. For each ordered pair of members
// (author, reader) the author writes one book, titled
// "<author>-<reader>-<task>", that only the reader follows: a task of n
// members needs n·(n−1) books, 2·(n−1) of them on each member's disk. A
// subtask lives inside its root task: it shares the root's members and
// books, and its messages carry its own ID.
//
// Page 0 of every pair book is an Address (author, reader, task, the
// author's dial addresses and name). Every later page is an Envelope, and
// an author writes each message at the same index in every book it writes
// for the task: a new member's book starts with a copy of the author's
// whole history, and a book that a crash left shorter is levelled on the
// next open. So a message's ID is (author, index), valid in any of the
// author's books; Head.Book only says where it was read. While a task has
// no other member, the author's messages wait in its private journal.
//
// # Messages
//
// Envelope{head, refs, type, data, meta} (peer/pb/peer.proto): refs are
// typed links by head — reply-to, edit-of, delete-of, react-to — plus,
// for causality, the newest message of every other author the sender had
// seen; meta holds the wall-clock time (display only), the task, a
// Lamport clock greater than that of everything the message references,
// and the hash of the sender's idempotency key, if any.
// Types: text, reply, edit, delete (a tombstone), reaction, join (the
// inviter names the newcomer), leave (a member names itself; it then no
// longer writes to the task), task update (create, rename, close a task or
// subtask), profile (reserved: names travel on the Address pages). Only
// a message's author can edit or delete it; edits and deletes by anyone
// else are ignored.
//
// # Timeline
//
// A task's timeline merges every member's book for this peer and this
// peer's own log, ordered by (clock, author, index): a message always
// comes after everything it references, and ties are broken by a stable
// rule, never by wall clock. A message whose references have not arrived
// is held back until they do. Edits, deletes and reactions are applied to
// their targets. A page that is not a valid envelope of its author at its
// index, or whose clock goes backwards, shows as an entry with Err set
// (its author and index) and never stops the timeline. Times from the
// future are clamped to now for display. Timeline pages backwards from
// the newest (Limit, Before) by reading each log backwards, so the newest
// page costs O(limit · members) reads whatever the task's length. Unread
// counts the others' messages after the read marker (MarkRead).
// Subscribe delivers each new message once, after its references.
//
// # Subscriptions
//
// A subscription does not keep what its reader has not taken: it reads
// the pages the watcher has checked from disk as the reader goes, at most
// 64 messages or 256 KiB of text ahead, so a slow reader costs bounded
// memory and never holds up the writer or the other subscribers. One that
// falls more than Options.MaxLag messages behind ends with ErrLagged. A
// Progress (per author, the last message received: "<author>/<index>,…")
// resumes it with SubscribeAfter: what it missed first, read from disk,
// then live. Per author, messages come in index order.
//
// # Idempotent writes
//
// Post with Draft.Key stores BLAKE2b-256 of the key in the message's
// Meta.idempotency, in the same append as the message. A retry with the
// same key within the author's latest Options.IdempotencyWindow messages
// of the task (default 1000) returns that message and writes nothing;
// the same key with a different message is ErrKeyReused. Each task's
// index of keys is rebuilt from the log on the first keyed write after
// Open, so it holds across crashes and restarts.
//
// # Invites and groups
//
// Invite gives a one-line code: "folio1-" + base32 of the inviter's peer
// ID, the task, the inviter's dial addresses and a random secret, plus a
// 4-byte checksum, so a typo is ErrBadCode rather than a wrong peer. Join
// dials the inviter, writes the joiner's book for the inviter and
// introduces it (folio's IO introduction) with a token proving the secret
// (BLAKE2b keyed with the secret over both peer IDs; the secret never
// travels). If the inviter cannot be reached (not listening yet, a
// handshake timed out on a loaded machine, its gate not open yet), Join
// tries again, at most Options.JoinAttempts times, Retry apart and then
// doubling, within its context, and ends with ErrUnreachable; a refused
// invite is final, but a retry whose first attempt got in and lost the
// answer is let in (the token names the newcomer, now a member). The
// inviter checks the token (unknown, used, revoked or
// expired invites are refused with the reason), writes its book for the
// newcomer with the task's history (one append: the Address page and
// the history), appends a join message naming the newcomer, and
// introduces its book. Join then waits for the steps that concern its
// task (that introduction handled, the book's first pages read), not on
// a clock. Every member reading that join
// message writes a book for the newcomer and introduces it; the newcomer
// accepts books from the members the inviter listed. Introductions not yet
// accepted are retried (Options.Retry). In handshakes a peer is offered
// only the pair books of the tasks it is a member of; a peer met by
// chance (mDNS, the DHT) is offered nothing.
//
// # Costs and how they grow
//
// For a task of n members, T tasks in the vault, and a message of b bytes
// (issue 13; figures in BENCHMARKS.md):
//
//   - Per message, at its author: one envelope, written to the n−1 pair
//     books as one atomic Pebble batch (db.AppendMulti): one commit and
//     one fsync whatever n, n−1 Ed25519 signatures made on every core,
//     O(n·b) bytes. Then a read of that task's logs only.
//   - Per message, at each other member: one replicated page verified
//     (one signature check, one commit without an fsync: the DB syncs
//     replicated pages at most once per db.Options.ReplicatedSyncDelay,
//     and the member's own synced writes, read markers included, make
//     them durable at once; a crash loses at most the unsynced suffix,
//     fetched again from the author), no message back to the author (its
//     push told it where the member is), and a read of the one log that
//     grew: the DB's Appended callback names the book, hence its author,
//     so the watcher and each live subscription read and decode only
//     that log's new pages (member books stay open: no catalogue
//     lookup), O(1) whatever n; a subscription keeps its lag as a count
//     updated for that log only, not summed over the n authors per
//     delivery (that sum was 3 % of the CPU at 32 members). An envelope
//     references the newest message of every other author the sender
//     has read, so it is O(1) bytes when one member writes and O(n) when
//     all do. So all peers together spend O(n) signs, checks and
//     commits per message.
//   - Per member: 2·(n−1) books on each member's disk; a newcomer costs
//     each member one book (a copy of its history for the task) and one
//     introduction, so forming a group of n costs O(n²) introductions in
//     all, made one by one as the members read the join messages. The
//     members already there dial the newcomer; it answers on their
//     connections and dials only those still silent after
//     Options.AwaitGrace (5 × Retry), so a group of n opens n(n−1)/2
//     connections (one TLS handshake each), not two for most pairs. Each
//     connection carries three handshake exchanges: its dialer's full
//     handshake and one introduction each way; about half of the
//     introductions race the dialer's handshake on a new connection and
//     go as a second full handshake rather than briefly (TestJoinCost:
//     the k-th newcomer costs the group k connections and 3k exchanges).
//     An introduction carries the
//     introducer's view of the members, trimmed to io's 4 KiB bound
//     (about 70 members with one loopback address each): a newcomer to
//     a larger group learns the rest from the join messages it reads.
//   - Per task: a book that grows wakes the watcher for its task only
//     (the DB's Appended callback names the book), so adding a task or
//     a message costs the same with 1 or 1,000 tasks, except where noted
//     here. The messenger starts no goroutine per book or task: three
//     loops (watcher, retries, journal writer), a goroutine per
//     introduction in flight and one per book while one of its pages is
//     awaited. Open replays the journal (O(records)) and reads every
//     task once; it dials each member once, however many tasks they
//     share (handshaking again with one the vault's redial of recent
//     peers reached before the gate opened: that handshake offered no
//     book, so it acks none), and introduces itself to each member peer once (not once
//     per task: a handshake that shares our book for a task acks it, and
//     the member spreads our new addresses to every task it shares with
//     us; once it took that introduction, the connection's handshake
//     acks our books of every other task it shares, and the retry loop
//     introduces one book at a time to a member peer not yet told).
//     Adding a task to members already connected costs O(1) in T: its
//     introductions (the join's, the welcome's, the members') travel
//     alone on the connection (io's IntroduceProtocol), not in a
//     handshake that restates every book shared with the member; only a
//     new connection's handshake carries them all (O(books shared), once
//     per connection), and its acks (core.handshaken) touch the tasks
//     of the books it shared (core.mine), not every task. Offer reads an
//     index of the books shared with each peer (the gate). Measured at
//     1,000 tasks: adding a task in the last tenth costs 1.18× the first
//     tenth (median of 3 loaded runs, 1.10–1.23×; the same interleaved
//     runs of the build where every introduction was a handshake:
//     6.3–20×, median 13.6×; 4.35× quiet; BENCHMARKS.md). Below peer, db's
//     replication session runs three goroutines however many books it
//     carries, so goroutines do not grow with T (145–148 in all at 1,000
//     tasks of 3 members, three vaults in one process).
//   - Per member peer: one connection (io closes the duplicate that
//     simultaneous dials leave) and one replication session. Memory per
//     peer grows as about 1 MB + (n−1) × 100 KB, so a group of n holds
//     O(n²) in all: each connection end costs ~70 KB of heap in use
//     (~54 KB live: the session's 4 KiB reader and state ~8 KB,
//     libp2p's TLS ~8–12 KB, whose read buffer keeps its largest
//     record, yamux ~8 KB, the resource manager, swarm and the
//     goroutines' descriptors the rest) and seven goroutines' stacks
//     (~33 KB: four libp2p's, three the session's). Measured at 32 and
//     100 members (heap_mb ~98 and ~800 MB, stack_mb 37 and 337 MB;
//     BENCHMARKS.md, issue 13, part N).
//   - Idle (nothing written, every introduction accepted): nothing per
//     task, member or book. The retry loop looks only at the
//     introductions not accepted yet (core.pendingIntros: O(pending) per
//     look, not O(tasks × members)) and sleeps until the first is due;
//     with none pending it has no timer and wakes only when a member is
//     made or an introduction ends (TestRetryLoopIdle counts its looks:
//     none in 20 Retry periods of a formed group). The DB's compaction
//     scheduler ticks only while a compaction runs (db's
//     quietScheduler; Pebble's own ticks every 100 ms for the DB's
//     life). What is left is O(1) per peer and libp2p's: its address
//     manager (every 5 s) and connection manager (every 10 s) per host.
//     Measured on a formed group of 32 peers in one process: goroutine
//     wake-ups ~500/s → ~26/s (a runtime trace of idle seconds, most of
//     the rest the trace's own), idle CPU ~30–45 ms/s → 2–3 ms/s when
//     quiet (BENCHMARKS.md, issue 13, part M). While an introduction is
//     pending (a member offline), the loop looks once per Retry at the
//     pending ones only.
//
// # Core and shell
//
// The messenger's state (core: tasks, members, their books, the logs
// read so far, clocks, edits) changes only in the core's steps, in the
// manner of etcd raft's RawNode: pages read from a log (ingest, settle),
// a message to write (compose), an introduction let in (introduced), an
// invite used (joining), an invite made or revoked (invite, revoke), a
// read marker moved (markRead), an author's new name (renamed), a
// handshake that shared our books (handshaken), the end of an
// introduction of ours and when to try one again (introduceDone, retry,
// over the members not acked yet: pendingIntros),
// a journal record replayed on Open (replay). Unread is a function of
// the logs and the read marker (unread). An introduction carries the
// introducer's clock for the task, and the receiver writes after it, so
// an update made right after joining orders after the task's creation
// even before the inviter's pages arrive. Still outside the core: the
// subscriptions (channels and their pumps, registered under Peer.mu) and
// the idempotency index (the write path's cache, under sendMu, built
// from this peer's log on the first keyed write). A step takes no lock, does
// no I/O, reads no clock and calls nothing back; it returns effects —
// journal records, the gate's updates, books to open, newcomers to
// welcome, introductions to make — which the shell (Peer) carries out
// (shell.go), holding Peer.mu around the step. testdata/core drives the
// steps of several peers' cores with the effects carried out in memory
// (TestCore): a member appends, someone joins, a peer restarts from its
// journal and logs.
//
// Lower layers hand events up and never wait on the messenger. io calls
// Offer, Accept and Handshaken inside a handshake, on its goroutines:
// Offer and Accept read the gate (gate.go: who may introduce a book for
// which task, the invites, the books offered per peer), whose lock is
// held for map operations only; Accept checks the token or the
// membership, marks an invite used, and enqueues the introduction;
// Handshaken enqueues too. The watcher's goroutine handles the events
// in order (events.go) before it reads the logs. So a handshake never
// waits on Peer.mu, on a scan or on a write. Journal records go through
// a queue with one writer (journalq.go), which appends them in batches.
//
// # State
//
// The peer's private journal book ("private/messenger", never offered to
// anyone) records the tasks it created, invites, members and their books,
// read markers and the messages of tasks still without members; it is
// replayed on Open.
package peer
