package peer

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// journalQueue holds the journal records made while Peer.mu is held (a
// member learnt in a scan, an invite used in a handshake): one writer
// appends them in batches, so that nothing waits for an fsync while
// holding the messenger's lock, and the handshake's accept never writes.
// A crash can lose the records not yet appended; each is written again
// when its cause comes again (a member's introduction is retried until
// accepted in this process's lifetime; join messages are read again from
// the books).
type journalQueue struct {
	mu   sync.Mutex // guards recs
	recs [][]byte
	wmu  sync.Mutex // one append at a time, so records keep their order
	wake chan struct{}
}

// maxJournalBatch bounds the records of one journal append.
const maxJournalBatch = 256

// recordLater queues rec for the journal writer. It never blocks.
func (p *Peer) recordLater(rec *pb.Record) {
	b, err := proto.Marshal(rec)
	if err != nil {
		return
	}
	p.jq.mu.Lock()
	p.jq.recs = append(p.jq.recs, b)
	p.jq.mu.Unlock()
	select {
	case p.jq.wake <- struct{}{}:
	default:
	}
}

// flushJournal appends every queued record, in order. A record that
// cannot be written is lost, not retried (see journalQueue); the error
// says so to a caller that must know (Join).
func (p *Peer) flushJournal(ctx context.Context) error {
	p.jq.wmu.Lock()
	defer p.jq.wmu.Unlock()
	p.jq.mu.Lock()
	recs := p.jq.recs
	p.jq.recs = nil
	p.jq.mu.Unlock()
	for len(recs) > 0 {
		n := min(len(recs), maxJournalBatch)
		if _, err := p.journal.Append(ctx, recs[:n]...); err != nil {
			return fmt.Errorf("peer: journal: %w", err)
		}
		recs = recs[n:]
	}
	return nil
}

// journalLoop is the journal's writer.
func (p *Peer) journalLoop() {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.jq.wake:
			_ = p.flushJournal(p.ctx)
		}
	}
}
