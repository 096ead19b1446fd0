package peer

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/folio-p2p/folio/peer/pb"
)

// Draft is a message to write: the one form of Send, Reply, Edit, Delete
// and React, plus an idempotency key.
type Draft struct {
	// Type is TYPE_TEXT (also the zero value), TYPE_REPLY, TYPE_EDIT,
	// TYPE_DELETE or TYPE_REACTION.
	Type pb.Type
	// Text is the text (a reaction: the emoji or word; a delete: none).
	Text string
	// Ref is the message replied to, edited, deleted or reacted to.
	Ref Head
	// Key, when set, makes the write idempotent: if this peer's latest
	// Options.IdempotencyWindow messages of the task hold one written
	// with the same key, Post returns it and writes nothing (the same key
	// with another draft is ErrKeyReused). The key's hash is stored in
	// the message itself, so this holds across restarts and crashes.
	// 1 to 256 bytes of printable ASCII.
	Key string
}

// MaxKeySize bounds an idempotency key.
const MaxKeySize = 256

// Post writes d to task. again reports that d.Key named a message
// already written, which is returned.
func (p *Peer) Post(ctx context.Context, task TaskID, d Draft) (h Head, again bool, err error) {
	typ, data, refs, err := p.draft(d)
	if err != nil {
		return Head{}, false, err
	}
	var idem []byte
	if d.Key != "" {
		if idem, err = keyHash(d.Key); err != nil {
			return Head{}, false, err
		}
	}
	return p.write(ctx, task, typ, data, refs, idem)
}

// draft checks d and makes the envelope's type, data and refs.
func (p *Peer) draft(d Draft) (pb.Type, []byte, []*pb.Ref, error) {
	needText := func(k pb.RefKind) (pb.Type, []byte, []*pb.Ref, error) {
		if err := checkText(d.Text); err != nil {
			return 0, nil, nil, err
		}
		var refs []*pb.Ref
		if d.Type != pb.Type_TYPE_TEXT {
			refs = []*pb.Ref{ref(k, d.Ref)}
		}
		return d.Type, []byte(d.Text), refs, nil
	}
	switch d.Type {
	case pb.Type_TYPE_UNSPECIFIED, pb.Type_TYPE_TEXT:
		d.Type = pb.Type_TYPE_TEXT
		return needText(0)
	case pb.Type_TYPE_REPLY:
		return needText(pb.RefKind_REF_REPLY_TO)
	case pb.Type_TYPE_EDIT:
		if d.Ref.Author != p.me {
			return 0, nil, nil, fmt.Errorf("%w: %s wrote %s", ErrNotAuthor, d.Ref.Author, d.Ref)
		}
		return needText(pb.RefKind_REF_EDIT_OF)
	case pb.Type_TYPE_DELETE:
		if d.Ref.Author != p.me {
			return 0, nil, nil, fmt.Errorf("%w: %s wrote %s", ErrNotAuthor, d.Ref.Author, d.Ref)
		}
		return d.Type, nil, []*pb.Ref{ref(pb.RefKind_REF_DELETE_OF, d.Ref)}, nil
	case pb.Type_TYPE_REACTION:
		if d.Text == "" || len(d.Text) > 64 || !utf8.ValidString(d.Text) {
			return 0, nil, nil, fmt.Errorf("%w: a reaction is 1 to 64 bytes of UTF-8", ErrInvalid)
		}
		return d.Type, []byte(d.Text), []*pb.Ref{ref(pb.RefKind_REF_REACT_TO, d.Ref)}, nil
	}
	return 0, nil, nil, fmt.Errorf("%w: a draft cannot be of type %v", ErrInvalid, d.Type)
}
