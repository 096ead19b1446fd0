package db

import (
	"errors"
	"fmt"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
)

// schedule sends the requests c needs, within the session's window: first
// the remote's newer head (with the new pages, in one proof), then, when
// following, every page up to the remote's contiguous prefix; when sparse,
// the pages local readers wait for.
func (s *Session) schedule(c *channel) {
	if c.state != chLive || c.b.Frozen() || c.b.Writable() {
		return // (the author holds every page and takes no proofs)
	}
	if c.remoteNewer() {
		if c.upgrading == 0 {
			if s.inflight >= s.o.MaxInflight {
				s.starve(c)
				return
			}
			s.requestUpgrade(c)
		}
		return // pages wait for the head they are proven against
	}
	if c.upgrading != 0 || c.rFork != c.b.Fork() || c.rLength < c.b.Length() {
		return // (a remote behind us cannot prove pages up to our head)
	}
	if !c.rChecked && c.rLength == c.b.Length() && c.rLength > 0 {
		// The remote may hold another head signed for our length (the
		// author signed two): ask for its head once, to keep the evidence.
		if s.inflight >= s.o.MaxInflight {
			s.starve(c)
			return
		}
		s.request(c, &pb.Request{Fork: c.rFork, Upgrade: &pb.UpgradeRequest{Start: c.rLength}}, span{})
	}
	limit := min(c.b.Length(), c.rContig)
	if s.o.Sparse {
		s.requestWanted(c, limit)
		return
	}
	if c.next < c.contig {
		c.next = c.contig
	}
	for {
		if s.inflight >= s.o.MaxInflight {
			s.starve(c)
			return
		}
		var sp span
		n := s.rangePages(c)
		switch {
		case len(c.retry) > 0:
			sp = c.retry[0]
			if sp.end-sp.start > n {
				sp.end = sp.start + n
				c.retry[0].start = sp.end
			} else {
				c.retry = c.retry[1:]
			}
		case c.next < limit:
			sp = span{c.next, min(limit, c.next+n)}
			c.next = sp.end
		default:
			return
		}
		s.request(c, &pb.Request{Range: &pb.RangeRequest{Start: sp.start, End: sp.end}}, sp)
	}
}

// rangePages is how many pages a follow asks for in one request: about
// what one answer brings (the remote's MaxRangeBytes, taken to be ours, at
// the book's mean page size, or fewer once the remote cut an answer
// short: c.answerPages), so that answers come whole and in order.
// Asked for more, the remote answers the first part and the rest is asked
// for again later, behind the window's other requests: pages then land
// out of order, and every sendSync rescans the ones stored past the gap
// (Book.Contiguous reads their values), which cost a bulk download a
// fifth of its CPU.
func (s *Session) rangePages(c *channel) uint64 {
	length, bytes := c.b.Length(), c.b.ByteLength()
	if length == 0 || bytes == 0 {
		return maxRangePages // no head yet: the first answer is short
	}
	mean := max(bytes/length, 1)
	n := (uint64(s.o.MaxRangeBytes) + mean - 1) / mean
	if c.answerPages > 0 {
		n = min(n, c.answerPages)
	}
	return min(max(n, 1), maxRangePages)
}

// answerGrow is how many whole answers in a row at channel.answerPages
// double it: a probe past the remote's limit costs one short answer (and
// its remainder asked again) in answerGrow+1.
const answerGrow = 8

// starve queues c for the next free request slot (once).
func (s *Session) starve(c *channel) {
	if !c.starved {
		c.starved = true
		s.starved = append(s.starved, c)
	}
}

// feedStarved gives free request slots to the channels that found the
// window full, in turn, so one busy book cannot stall the others.
func (s *Session) feedStarved() {
	for len(s.starved) > 0 && s.inflight < s.o.MaxInflight {
		c := s.starved[0]
		s.starved[0] = nil
		s.starved = s.starved[1:]
		c.starved = false
		s.schedule(c)
	}
}

// requestUpgrade asks for the remote's head, with the pages past our length
// that a follower (or a waiting reader) wants. A head of a new fork comes
// alone: once it is stored, the pages below the fork point that the book
// kept count as held, and only the rest is asked for.
func (s *Session) requestUpgrade(c *channel) {
	if c.rFork != c.b.Fork() {
		c.upgrading = s.request(c, &pb.Request{Fork: c.rFork, Upgrade: &pb.UpgradeRequest{Start: 0}}, span{})
		return
	}
	from := c.b.Length()
	req := &pb.Request{Fork: c.rFork, Upgrade: &pb.UpgradeRequest{Start: from}}
	sp := span{}
	if !s.o.Sparse && len(c.retry) > 0 && c.retry[0].start < c.rContig {
		// Pages that went unanswered come first, with the head: else a
		// stalled channel's retry would wait a round trip for the upgrade.
		sp = span{c.retry[0].start, min(c.retry[0].end, c.rContig)}
		if c.retry[0].end > sp.end {
			c.retry[0].start = sp.end // the rest waits for the remote to hold it
		} else {
			c.retry = c.retry[1:]
		}
	} else if first := max(c.next, c.contig); !s.o.Sparse && first < c.rContig {
		// A follow asks on from the first page it has not asked for.
		sp = span{first, min(c.rContig, first+s.rangePages(c))}
	} else if s.o.Sparse {
		wants, _ := c.b.Wants()
		for _, w := range wants {
			if w >= from && w < c.rContig && w < c.rLength {
				sp = span{w, w + 1}
				break
			}
		}
	}
	if sp.end > sp.start {
		req.Range = &pb.RangeRequest{Start: sp.start, End: sp.end}
		if !s.o.Sparse {
			c.next = max(c.next, sp.end)
		}
	}
	c.upgrading = s.request(c, req, sp)
}

// requestWanted asks for each page local readers wait for, once.
func (s *Session) requestWanted(c *channel, limit uint64) {
	wants, _ := c.b.Wants()
	for _, w := range wants {
		if s.inflight >= s.o.MaxInflight {
			s.starve(c)
			return
		}
		if w >= limit || c.wanted[w] {
			continue
		}
		c.wanted[w] = true
		s.request(c, &pb.Request{Range: &pb.RangeRequest{Start: w, End: w + 1}}, span{w, w + 1})
	}
}

// request sends r for span sp and returns its id.
func (s *Session) request(c *channel, r *pb.Request, sp span) uint64 {
	r.Channel, r.Id = c.local, s.nextReq
	if r.Upgrade == nil {
		// The remote proves pages against its head when it answers, which
		// may be longer than ours by then: every request carries our
		// length, so the answer brings that head linked from it.
		r.Fork, r.Upgrade = c.b.Fork(), &pb.UpgradeRequest{Start: c.b.Length()}
	}
	s.nextReq++
	c.rChecked = true // the answer brings the remote's head
	c.inflight[r.Id] = asked{sp, c.syncs}
	s.inflight++
	s.send(&pb.Message{Body: &pb.Message_Request{Request: r}})
	return r.Id
}

// onRequest answers a remote request from what this book holds, with the
// author's signatures as they are: a relay never re-signs.
func (s *Session) onRequest(r *pb.Request) error {
	c := s.remote[r.GetChannel()]
	if c == nil {
		return fmt.Errorf("%w: request on unopened channel %d", ErrProtocol, r.GetChannel())
	}
	noData := &pb.Message{Body: &pb.Message_NoData{NoData: &pb.NoData{Channel: c.local, Id: r.GetId()}}}
	if r.GetFork() != c.b.Fork() || (r.Range == nil && r.Upgrade == nil) {
		s.send(noData)
		return nil
	}
	var req book.ProofRequest
	if rr := r.GetRange(); rr != nil {
		if rr.GetEnd() <= rr.GetStart() || rr.GetEnd()-rr.GetStart() > maxRangePages {
			return fmt.Errorf("%w: range request [%d, %d)", ErrProtocol, rr.GetStart(), rr.GetEnd())
		}
		req.Range = &book.RangeRequest{Start: rr.GetStart(), End: rr.GetEnd(), MaxBytes: s.o.MaxRangeBytes}
	}
	if u := r.GetUpgrade(); u != nil {
		req.Upgrade = &book.UpgradeRequest{Start: u.GetStart()}
	}
	s.emit(&bookOp{kind: opAnswer, c: c, id: r.GetId(), req: req})
	return nil
}

// onData takes the answer to one of our requests (nil for NoData): a
// proof goes to the shell to be stored (applied has the rest).
func (s *Session) onData(ch uint32, id uint64, d *pb.Data) error {
	c := s.remote[ch]
	if c == nil {
		return fmt.Errorf("%w: answer on unopened channel %d", ErrProtocol, ch)
	}
	if id == pushID && d != nil {
		return s.onPush(c, d)
	}
	a, ok := c.inflight[id]
	if !ok {
		return fmt.Errorf("%w: answer to unknown request %d", ErrProtocol, id)
	}
	sp := a.sp
	delete(c.inflight, id)
	s.inflight--
	if c.upgrading == id {
		c.upgrading = 0
	}
	if d == nil {
		s.requeue(c, sp)
		if a.syncs == c.syncs {
			if c.state == chLive {
				c.move(chStalled) // until the remote's next Sync
			}
		} else {
			s.schedule(c) // the remote changed since we asked: ask again
		}
		s.feedStarved()
		return nil
	}
	p, err := fromPBData(d)
	if err != nil {
		return err
	}
	if p.Range != nil && (p.Range.Start != sp.start || uint64(len(p.Range.Values)) > sp.end-sp.start) {
		return fmt.Errorf("%w: answer covers pages that were not asked for", ErrProtocol)
	}
	if u := p.Upgrade; u != nil && p.Range == nil && p.Fork == c.b.Fork() && u.Length == c.b.Length() {
		if h, _ := c.b.Head(); book.TreeHash(u.Roots) == h.TreeHash {
			s.schedule(c) // our own head: nothing to store
			s.feedStarved()
			return nil
		}
	}
	s.emit(&bookOp{kind: opApply, c: c, id: id, p: p, sp: sp})
	return nil
}

// applied is the core's side of a proof the shell stored, or failed to
// store with err: an answer to our request, or a push (onPush).
func (s *Session) applied(op *bookOp, err error) error {
	c, p, sp := op.c, op.p, op.sp
	stored, err := s.classify(c, p, err)
	if op.id == pushID {
		if err != nil || !stored {
			return err
		}
		s.stored(c, p)
		// The push brought the remote's head: no need to ask for it.
		if u := p.Upgrade; c.synced() && (p.Fork > c.rFork || (p.Fork == c.rFork && u.Length >= c.rLength)) {
			c.rFork, c.rLength, c.rChecked = p.Fork, u.Length, true
		}
		s.pushTaken(c, p)
		s.sendSync(c)
		s.schedule(c)
		return nil
	}
	defer s.feedStarved()
	if err != nil || !stored {
		if err == nil && c.state != chClosed {
			s.requeue(c, sp) // nothing was stored
			s.schedule(c)
		}
		return err
	}
	s.stored(c, p)
	if p.Range != nil {
		n := uint64(len(p.Range.Values))
		if got := p.Range.Start + n; got < sp.end {
			c.retry = append(c.retry, span{got, sp.end})
			c.answerPages, c.answersWhole = n, 0
		} else if c.answerPages > 0 && sp.end-sp.start >= c.answerPages {
			if c.answersWhole++; c.answersWhole >= answerGrow {
				c.answerPages, c.answersWhole = 2*c.answerPages, 0
			}
		}
		if s.o.Sparse {
			for i := sp.start; i < sp.end; i++ {
				delete(c.wanted, i)
			}
		}
	}
	s.sendSync(c)
	s.feedStarved()
	s.schedule(c)
	return nil
}

// classify judges the result of storing a proof from the remote into c's
// book. stored is false, with a nil error, when nothing was stored and
// nobody is at fault: the proof is stale (we grew since it was made), or
// the book froze or closed (then c is closed). An equivocation is reported
// and freezes the book; the session goes on. Any other failure is the
// remote's.
func (s *Session) classify(c *channel, p *book.Proof, err error) (stored bool, _ error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, book.ErrStale):
		return false, nil
	case errors.Is(err, book.ErrEquivocation):
		c.close()
		s.peerError(err) // the author's fault: the book froze, the session goes on
		return false, nil
	case errors.Is(err, book.ErrFrozen): // frozen before: nobody's fault here
		c.close()
		return false, nil
	case errors.Is(err, book.ErrClosed), s.ctx.Err() != nil:
		c.close()
		return false, nil
	}
	if u := p.Upgrade; u != nil && p.Fork == c.b.Fork() && u.Start < c.b.Length() {
		// We grew since it was made (from another peer or session): the
		// head no longer links to ours. Stale, not false.
		return false, nil
	}
	return false, fmt.Errorf("%w: book %x: %v", ErrProtocol, c.b.DiscoveryKey(), err)
}

// stored notes the pages of a proof just stored in c's contiguous prefix,
// which saves sendSync rescanning them.
func (s *Session) stored(c *channel, p *book.Proof) {
	if p.Range == nil {
		return
	}
	if got := p.Range.Start + uint64(len(p.Range.Values)); p.Range.Start <= c.contig && got > c.contig {
		c.contig = got
	}
}

// requeue puts an unanswered span back to be asked for again.
func (s *Session) requeue(c *channel, sp span) {
	if sp.end <= sp.start {
		return
	}
	if s.o.Sparse {
		for i := sp.start; i < sp.end; i++ {
			delete(c.wanted, i)
		}
		return
	}
	c.retry = append(c.retry, sp)
}
