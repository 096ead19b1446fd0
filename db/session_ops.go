package db

import (
	"runtime"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
)

// Book operations. The core decides what to do with a book and leaves it
// in the outbox, in order with its messages; the shell (flush) performs it
// and feeds the result back to the core. So the core writes nothing and
// builds no proof itself: it reads the book's state (fork, length, held
// pages, wants) and, given the same state and the same messages, leaves
// the same messages and operations. testdata/session shows them ("book").
type opKind uint8

const (
	// opAnswer: build a proof for the remote's request and send it, or a
	// NoData when this side cannot prove it. No result goes back.
	opAnswer opKind = iota + 1
	// opPush: build the push for a caught-up follower (session_push.go)
	// and send it; the proof built goes back (pushed).
	opPush
	// opApply: verify and store a proof from the remote; the error goes
	// back (applied).
	opApply
)

// bookOp is one book operation for the shell.
type bookOp struct {
	kind opKind
	c    *channel
	id   uint64            // the request answered, or the answer applied (pushID for a push)
	req  book.ProofRequest // opAnswer, opPush
	p    *book.Proof       // opApply
	sp   span              // opApply: the pages asked for
	// opPush: the head the core saw. The Sync it sends after the push
	// tells that head, so a push of a newer one (the book grew before
	// the shell built it) would make the Sync look like going back.
	fork, length uint64
}

// effect is one output of the core: a message or a book operation.
type effect struct {
	m  *pb.Message
	op *bookOp
}

// emit is the core's other output: op is performed when the step ends,
// after the messages sent before it.
func (s *Session) emit(op *bookOp) { s.outbox = append(s.outbox, effect{op: op}) }

// perform carries out op for the shell and hands its result to the core.
// It returns the frame the operation makes (an answer or a push), which
// goes to the remote in op's place, and the core's error (a false proof),
// which ends the session. Proofs are encoded at once from pages read into
// s.arena (wire_data.go): nothing of them is kept.
func (s *Session) perform(op *bookOp) ([]byte, error) {
	c := op.c
	switch op.kind {
	case opAnswer:
		p, arena, err := c.b.ProofInto(op.req, s.arena)
		s.arena = arena
		if err != nil { // not held here (sparse relay, cleared, truncated)
			return appendFrame(s.out.buffer(), &pb.Message{Body: &pb.Message_NoData{NoData: &pb.NoData{Channel: c.local, Id: op.id}}})
		}
		return appendDataFrame(s.out.buffer(), c.local, op.id, p), nil
	case opPush:
		p, arena, err := c.b.ProofInto(op.req, s.arena)
		s.arena = arena
		if err != nil || p.Upgrade == nil || p.Fork != op.fork || p.Upgrade.Length != op.length {
			// Truncated or grown meanwhile: no push. The Sync tells, and
			// the change that grew it wakes the core again.
			return nil, nil
		}
		s.pushed(c, op.req.Upgrade.Start, p)
		return appendDataFrame(s.out.buffer(), c.local, pushID, p), nil
	case opApply:
		return nil, s.applyOp(op)
	}
	return nil, nil
}

// applyOp stores op's proof and hands the result to the core, then the
// change of the book it made (and any other made meanwhile), which the
// core handles in the same step (see Session.watch).
func (s *Session) applyOp(op *bookOp) error {
	c := op.c
	c.applying.Store(true)
	err := s.apply(c, op.p)
	c.applying.Store(false)
	changed := c.changed.Swap(false)
	if err == nil && op.id == pushID {
		// A push is a live notification, and it woke the book's
		// local readers (subscriptions, waiters): let them run before
		// the session's own follow-up (our Sync, the writer goroutine
		// it wakes), which nobody waits for; else each goroutine the
		// follow-up wakes runs before them (Go runs the last one
		// woken first). Not for answers: in a bulk download the
		// yield would queue the reader behind every runnable
		// goroutine (Pebble's flushes, the writer) once per answer.
		runtime.Gosched()
	}
	if err = s.applied(op, err); err == nil && changed {
		s.onLocalChange(c)
	}
	return err
}

// apply stores a proof from the remote: unsynced, for the DB to sync
// within ReplicatedSyncDelay (replsync.go), unless it syncs every proof.
func (s *Session) apply(c *channel, p *book.Proof) error {
	rs := s.d.replSync
	if rs == nil {
		return c.b.ApplyProof(s.ctx, p)
	}
	err := c.b.ApplyProofWith(s.ctx, p, book.ApplyOptions{Sync: book.SyncOff})
	if err == nil {
		rs.stored()
	}
	return err
}
