package peer

import (
	"context"
	"fmt"
	"sort"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// MaxTextSize bounds one message's text.
const MaxTextSize = 64 << 10

// Send writes a text message to task.
func (p *Peer) Send(ctx context.Context, task TaskID, text string) (Head, error) {
	if err := checkText(text); err != nil {
		return Head{}, err
	}
	return p.send(ctx, task, pb.Type_TYPE_TEXT, []byte(text), nil)
}

// Reply writes a reply to the message to.
func (p *Peer) Reply(ctx context.Context, task TaskID, to Head, text string) (Head, error) {
	if err := checkText(text); err != nil {
		return Head{}, err
	}
	return p.send(ctx, task, pb.Type_TYPE_REPLY, []byte(text), []*pb.Ref{ref(pb.RefKind_REF_REPLY_TO, to)})
}

// Edit replaces the text of one of this peer's messages.
func (p *Peer) Edit(ctx context.Context, task TaskID, of Head, text string) (Head, error) {
	if of.Author != p.me {
		return Head{}, fmt.Errorf("%w: %s wrote %s", ErrNotAuthor, of.Author, of)
	}
	if err := checkText(text); err != nil {
		return Head{}, err
	}
	return p.send(ctx, task, pb.Type_TYPE_EDIT, []byte(text), []*pb.Ref{ref(pb.RefKind_REF_EDIT_OF, of)})
}

// Delete tombstones one of this peer's messages.
func (p *Peer) Delete(ctx context.Context, task TaskID, of Head) (Head, error) {
	if of.Author != p.me {
		return Head{}, fmt.Errorf("%w: %s wrote %s", ErrNotAuthor, of.Author, of)
	}
	return p.send(ctx, task, pb.Type_TYPE_DELETE, nil, []*pb.Ref{ref(pb.RefKind_REF_DELETE_OF, of)})
}

// React reacts to a message (an emoji, a word).
func (p *Peer) React(ctx context.Context, task TaskID, to Head, reaction string) (Head, error) {
	if reaction == "" || len(reaction) > 64 || !utf8.ValidString(reaction) {
		return Head{}, fmt.Errorf("%w: a reaction is 1 to 64 bytes of UTF-8", ErrInvalid)
	}
	return p.send(ctx, task, pb.Type_TYPE_REACTION, []byte(reaction), []*pb.Ref{ref(pb.RefKind_REF_REACT_TO, to)})
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
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Head{}, ErrClosed
	}
	rid := p.rootOf(task)
	r := p.roots[rid]
	if r == nil {
		p.mu.Unlock()
		return Head{}, fmt.Errorf("%w: %s", ErrNoTask, task)
	}
	if r.gone[p.me] {
		p.mu.Unlock()
		return Head{}, fmt.Errorf("%w: %s", ErrLeft, task)
	}
	n, _ := p.myLog(r)
	clock := r.maxClock + 1
	// The causal links: the newest message of every other author seen.
	authors := make([]string, 0, len(r.logs))
	for a := range r.logs {
		authors = append(authors, string(a))
	}
	sort.Strings(authors)
	for _, a := range authors {
		if l := r.logs[peerID(a)]; peerID(a) != p.me && l.next > 1 {
			refs = append(refs, &pb.Ref{Kind: pb.RefKind_REF_SEEN, Head: &pb.Head{Author: []byte(a), Index: l.next - 1}})
		}
	}
	mine := r.myBooks
	p.mu.Unlock()

	env := &pb.Envelope{
		Head: &pb.Head{Author: []byte(p.me), Index: n},
		Refs: refs, Type: typ, Data: data,
		Meta: &pb.Meta{Time: p.o.Now().UnixMilli(), Clock: clock, Task: task[:]},
	}
	page, err := proto.Marshal(env)
	if err != nil {
		return Head{}, err
	}
	if len(mine) == 0 {
		if err := p.record(ctx, &pb.Record{Body: &pb.Record_Outbox{Outbox: env}}); err != nil {
			return Head{}, err
		}
		p.mu.Lock()
		r.outbox = append(r.outbox, page)
		p.mu.Unlock()
	} else {
		for reader, b := range mine {
			if b.Length() != n {
				return Head{}, fmt.Errorf("peer: book for %s has %d pages, want %d", reader, b.Length(), n)
			}
			if _, err := b.Append(ctx, page); err != nil {
				return Head{}, fmt.Errorf("peer: send: %w", err)
			}
		}
	}
	p.scanOne(r)
	return Head{Author: p.me, Index: n}, nil
}
