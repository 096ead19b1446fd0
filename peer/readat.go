package peer

import (
	"context"

	"github.com/folio-p2p/folio/peer/pb"
)

// MarkReadAt moves the read marker of a task's root up to message h: what
// a reader was shown, not what arrived meanwhile, counts as read. A
// marker already past h stays where it is (the marker never goes back).
// An unknown h is ErrNoMessage.
func (p *Peer) MarkReadAt(ctx context.Context, task TaskID, h Head) error {
	k, err := p.Position(ctx, task, h)
	if err != nil {
		return err
	}
	p.mu.Lock()
	r := p.roots[p.rootOf(task)]
	ahead := r != nil && !r.read.zero() && !r.read.less(k)
	p.mu.Unlock()
	if ahead {
		return nil
	}
	if err := p.record(ctx, &pb.Record{Body: &pb.Record_Read{Read: &pb.ReadMarker{Task: task[:], Clock: k.Clock, Author: []byte(k.Author), Index: k.Index}}}); err != nil {
		return err
	}
	p.mu.Lock()
	if r := p.roots[p.rootOf(task)]; r != nil && r.read.less(k) {
		r.read = k
	}
	p.mu.Unlock()
	return nil
}
