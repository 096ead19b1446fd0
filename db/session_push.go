package db

import (
	"fmt"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
)

// Notification in one message. When our book grows and the remote is a
// caught-up follower — it follows, holds every page up to the length it
// last told us, and that is where our previous push (if any) left it — we
// push the new signed head, linked to the remote's length, with the new
// pages and their range proof: a Data with id 0 (pushID), which answers no
// request. The remote stores it like an answer and needs no Request round
// trip. Our Sync follows as ever, so a remote that drops the push (it grew
// from another peer meanwhile) still learns of the head and asks.
//
// A push is bounded like an answer (MaxRangeBytes of pages) and to
// maxPushPages pages: a remote further behind catches up by requests.

// pushID is the id of a Data that answers no request: a push.
const pushID = 0

// maxPushPages bounds the pages one push carries.
const maxPushPages = 64

// push sends c's new pages and head to a caught-up follower.
func (s *Session) push(c *channel) {
	if !c.synced() || !c.rFollow || c.rFork != c.b.Fork() || c.rContig < c.rLength {
		return
	}
	from := c.rLength
	if c.pushFork == c.rFork && c.pushLen > from {
		from = c.pushLen // the remote holds what we pushed, unless it dropped it
	}
	length := c.b.Length()
	if length <= from || length-from > maxPushPages {
		return
	}
	if contig, err := c.b.Contiguous(from); err != nil || contig < length {
		return // a relay that misses some of the new pages: the remote asks
	}
	s.emit(&bookOp{kind: opPush, c: c, id: pushID, fork: c.rFork, length: length, req: book.ProofRequest{
		Upgrade: &book.UpgradeRequest{Start: from},
		Range:   &book.RangeRequest{Start: from, End: length, MaxBytes: s.o.MaxRangeBytes},
	}})
}

// pushed notes where the push p, from from, leaves the remote.
func (s *Session) pushed(c *channel, from uint64, p *book.Proof) {
	c.pushFork, c.pushLen = p.Fork, p.Upgrade.Length
	if p.Range == nil || p.Range.Start+uint64(len(p.Range.Values)) < p.Upgrade.Length {
		c.pushLen = from // pages left out: the remote asks for them
	}
}

// onPush takes a push from the remote (see push) for the shell to store
// (applied has the rest). A push this side cannot use — it does not start
// at our length, or we do not follow (sparse, the author) — is dropped: a
// Sync follows it. One that does not verify ends the session, as an
// answer would.
func (s *Session) onPush(c *channel, d *pb.Data) error {
	p, err := fromPBData(d)
	if err != nil {
		return err
	}
	u := p.Upgrade
	if u == nil || (p.Range != nil && p.Range.Start != u.Start) {
		return fmt.Errorf("%w: a push without its head, or with pages not from its start", ErrProtocol)
	}
	if s.o.Sparse || c.state == chClosed || c.b.Writable() || c.b.Frozen() || p.Fork != c.b.Fork() || u.Start != c.b.Length() {
		return nil
	}
	s.emit(&bookOp{kind: opApply, c: c, id: pushID, p: p})
	return nil
}

// pushTaken notes that the remote knows our state after we stored its
// push p: it pushed us its head with every page from our length (pushed
// keeps where that left us), so a Sync saying so would tell it nothing.
// Not sending it saves a message each way per push and the remote's step
// for it. A push that left pages out, or our Sync not yet sent, still
// gets a Sync.
func (s *Session) pushTaken(c *channel, p *book.Proof) {
	u := p.Upgrade
	if !c.sentSync || p.Range == nil || p.Range.Start+uint64(len(p.Range.Values)) != u.Length ||
		c.b.Fork() != p.Fork || c.b.Length() != u.Length || c.contig < u.Length {
		return
	}
	c.sFork, c.sLen, c.sContig = p.Fork, u.Length, u.Length
}
