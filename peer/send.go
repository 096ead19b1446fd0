package peer

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/peer/pb"
)

// MaxTextSize bounds one message's text.
const MaxTextSize = 64 << 10

// Send writes a text message to task.
func (p *Peer) Send(ctx context.Context, task TaskID, text string) (Head, error) {
	h, _, err := p.Post(ctx, task, Draft{Type: pb.Type_TYPE_TEXT, Text: text})
	return h, err
}

// Reply writes a reply to the message to.
func (p *Peer) Reply(ctx context.Context, task TaskID, to Head, text string) (Head, error) {
	h, _, err := p.Post(ctx, task, Draft{Type: pb.Type_TYPE_REPLY, Text: text, Ref: to})
	return h, err
}

// Edit replaces the text of one of this peer's messages.
func (p *Peer) Edit(ctx context.Context, task TaskID, of Head, text string) (Head, error) {
	h, _, err := p.Post(ctx, task, Draft{Type: pb.Type_TYPE_EDIT, Text: text, Ref: of})
	return h, err
}

// Delete tombstones one of this peer's messages.
func (p *Peer) Delete(ctx context.Context, task TaskID, of Head) (Head, error) {
	h, _, err := p.Post(ctx, task, Draft{Type: pb.Type_TYPE_DELETE, Ref: of})
	return h, err
}

// React reacts to a message (an emoji, a word).
func (p *Peer) React(ctx context.Context, task TaskID, to Head, reaction string) (Head, error) {
	h, _, err := p.Post(ctx, task, Draft{Type: pb.Type_TYPE_REACTION, Text: reaction, Ref: to})
	return h, err
}

func checkText(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty message", ErrInvalid)
	case len(s) > MaxTextSize:
		return fmt.Errorf("%w: message of %d bytes (max %d)", ErrInvalid, len(s), MaxTextSize)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: message is not UTF-8", ErrInvalid)
	}
	return nil
}

func ref(k pb.RefKind, h Head) *pb.Ref {
	return &pb.Ref{Kind: k, Head: &pb.Head{Author: []byte(h.Author), Index: h.Index}}
}

// send appends one envelope to every book this peer writes for the task's
// root (or to the journal's outbox while it has no other member), at the
// same index in each.
func (p *Peer) send(ctx context.Context, task TaskID, typ pb.Type, data []byte, refs []*pb.Ref) (Head, error) {
	h, _, err := p.write(ctx, task, typ, data, refs, nil)
	return h, err
}

// write is send with an idempotency key's hash (nil: none): when it
// names one of this peer's recent messages of the task, that message is
// returned (again is true) and nothing is written.
func (p *Peer) write(ctx context.Context, task TaskID, typ pb.Type, data []byte, refs []*pb.Ref, idem []byte) (h Head, again bool, err error) {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	if idem != nil {
		if h, ok, err := p.findKey(ctx, task, typ, data, refs, idem); ok || err != nil {
			return h, ok, err
		}
	}
	now := p.o.Now().UnixMilli()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Head{}, false, ErrClosed
	}
	n := p.myLength(task)
	env, r, err := p.compose(task, n, outgoing{typ: typ, data: data, refs: refs, timeMs: now, idem: idem})
	if err != nil {
		p.mu.Unlock()
		return Head{}, false, err
	}
	mine := r.myBooks
	p.mu.Unlock()

	page, err := proto.Marshal(env)
	if err != nil {
		return Head{}, false, err
	}
	if len(mine) == 0 {
		if err := p.record(ctx, &pb.Record{Body: &pb.Record_Outbox{Outbox: env}}); err != nil {
			return Head{}, false, err
		}
		p.mu.Lock()
		r.outbox = append(r.outbox, page)
		p.mu.Unlock()
	} else if err := p.appendAll(ctx, mine, n, page); err != nil {
		return Head{}, false, err
	}
	if idem != nil {
		p.keepKey(r, idem, n)
	}
	p.scanOne(r, only(p.me))
	return Head{Author: p.me, Index: n}, false, nil
}

// myLength is the length of this peer's log for task's root (0 when it
// has none). Call with p.mu held.
func (p *Peer) myLength(task TaskID) uint64 {
	r := p.roots[p.rootOf(task)]
	if r == nil {
		return 0
	}
	n, _ := p.myLog(r)
	return n
}

// appendAll appends page at index n to every book of mine as one atomic
// batch: one commit and one fsync for the n−1 books, their signatures made
// in parallel; either every book has the message or none has.
func (p *Peer) appendAll(ctx context.Context, mine map[peer.ID]*book.Book, n uint64, page []byte) error {
	parts := make([]db.Append, 0, len(mine))
	for reader, b := range mine {
		if b.Length() != n {
			return fmt.Errorf("peer: book for %s has %d pages, want %d", reader, b.Length(), n)
		}
		parts = append(parts, db.Append{Book: b, Pages: [][]byte{page}, CheckLength: true, ExpectedLength: n})
	}
	if _, err := p.v.DB().AppendMulti(ctx, book.SyncDefault, parts...); err != nil {
		return fmt.Errorf("peer: send: %w", err)
	}
	return nil
}
