package db

import (
	"crypto/ed25519"
	"sync/atomic"

	"github.com/folio-p2p/folio/db/pb"

	"github.com/folio-p2p/folio/book"
)

// channel is one book shared on a session. The session's core owns it
// (under Session.mu) but for dirty; its book's watch function only marks
// it dirty (session_wake.go).
type channel struct {
	local  uint32 // our number for it (0 until we send Open)
	remote uint32 // the remote's number (0 until it opens)
	key    ed25519.PublicKey
	b      *book.Book

	state chanState // see chanstate.go

	// What the remote said in its last Sync.
	rFork, rLength       uint64
	rContig              uint64
	rFollow              bool
	rChecked             bool   // we asked for the remote's head since its last change
	syncs                uint64 // Syncs received: a NoData to a request older than the last one stalls nothing
	starved              bool   // waiting in Session.starved for a free request slot
	sentSync             bool
	sFork, sLen, sContig uint64 // what we last told the remote
	contig               uint64 // pages we hold from 0 without a gap
	pushFork, pushLen    uint64 // where our last push left the remote (session_push.go)

	// Our requests.
	upgrading uint64 // the id of our upgrade request in flight, or 0
	next      uint64 // first page a follow has not requested yet
	retry     []span // parts of answered ranges that did not come
	// answerPages caps a follow's requests once the remote cut an answer
	// short (session_fetch.go, rangePages): the pages that answer
	// brought; 0 until one is. It doubles after answerGrow whole answers
	// in a row at the cap (counted in answersWhole), so a run of large
	// pages does not keep the rest of a download's requests small.
	answerPages  uint64
	answersWhole int
	inflight     map[uint64]asked
	wanted       map[uint64]bool // sparse pages requested

	unwatch func() // stops the book's watch function
	dirty   bool   // in the session's dirty set; guarded by dirtySet.mu
	// applying is set while the shell stores a proof into the book on
	// this channel, and changed notes a change of the book meanwhile:
	// the step that stored it handles the change itself instead of
	// waking the loop (session_wake.go).
	applying, changed atomic.Bool
}

// offer is what a session keeps of the remote's Open of a book: what
// pairing needs, and nothing the remote could make large.
type offer struct {
	channel    uint32
	capability [capabilitySize]byte
	// early is the remote's latest Sync on the offered channel. The remote
	// sends its Sync right after its Open, and sends it again only when
	// its book changes: dropped because we did not hold the book yet, the
	// channel would stay paired, asking for nothing, until the remote's
	// next append (an introduction racing its own replication).
	early *pb.Sync
}

type span struct{ start, end uint64 }

// asked is a request in flight: its pages and c.syncs when it was sent.
type asked struct {
	sp    span
	syncs uint64
}

// remoteNewer reports whether the remote's signed head is ahead of ours.
func (c *channel) remoteNewer() bool {
	fork, length := c.b.Fork(), c.b.Length()
	return c.rFork > fork || (c.rFork == fork && c.rLength > length)
}

// resetFork forgets the download state after our book moved to a new fork.
func (c *channel) resetFork() {
	c.next, c.contig, c.retry = 0, 0, nil
}
