package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/peer/pb"
)

// The operations every command needs, on a *peer.Peer: the daemon's API
// handlers and the commands that open the vault themselves share them.

func opTasks(ctx context.Context, p *peer.Peer) []api.Task {
	out := []api.Task{}
	for _, t := range p.Tasks() {
		out = append(out, taskAPI(ctx, p, t))
	}
	return out
}

func opNewTask(ctx context.Context, p *peer.Peer, in api.NewTask) (api.Task, error) {
	var parent peer.TaskID
	if in.Parent != "" {
		t, err := p.FindTask(in.Parent)
		if err != nil {
			return api.Task{}, err
		}
		parent = t.ID
	}
	id, err := p.CreateTask(ctx, in.Title, parent)
	if err != nil {
		return api.Task{}, err
	}
	t, err := p.Task(id)
	if err != nil {
		return api.Task{}, err
	}
	return taskAPI(ctx, p, t), nil
}

func opInvite(ctx context.Context, p *peer.Peer, task string) (api.Invite, error) {
	t, err := p.FindTask(task)
	if err != nil {
		return api.Invite{}, err
	}
	code, err := p.Invite(ctx, t.ID)
	return api.Invite{Code: code, Task: t.ID.String()}, err
}

func opJoin(ctx context.Context, p *peer.Peer, code string) (api.Task, error) {
	if t, ok := memberOf(p, code); ok {
		return api.Task{}, fmt.Errorf("%w: you are already a member of %s (%q)", errAlready, t.ID, t.Title)
	}
	id, err := p.Join(ctx, code)
	if err != nil {
		return api.Task{}, err
	}
	t, err := p.Task(id)
	if err != nil {
		return api.Task{ID: id.String()}, nil
	}
	return taskAPI(ctx, p, t), nil
}

// errAlready: joining a task this peer is a member of.
var errAlready = errors.New("already a member")

// memberOf finds the task code invites to, if this peer is in it (and
// did not leave it: a new invite undoes a leave).
func memberOf(p *peer.Peer, code string) (peer.Task, bool) {
	in, err := peer.DecodeInvite(code)
	if err != nil {
		return peer.Task{}, false
	}
	var id peer.TaskID
	copy(id[:], in.Task)
	t, err := p.Task(id)
	if err != nil {
		return peer.Task{}, false
	}
	for _, m := range t.Members {
		if m == p.ID() {
			return t, true
		}
	}
	return peer.Task{}, false
}

// sendTypes maps api.Send's types to drafts ("" is text, or a reply
// when it has a ref).
var sendTypes = map[string]pb.Type{
	"": pb.Type_TYPE_TEXT, "text": pb.Type_TYPE_TEXT, "reply": pb.Type_TYPE_REPLY,
	"edit": pb.Type_TYPE_EDIT, "delete": pb.Type_TYPE_DELETE, "reaction": pb.Type_TYPE_REACTION,
}

// opSend writes s to task. again reports that s.IdempotencyKey named a
// message already written, which is returned; nothing was written.
func opSend(ctx context.Context, p *peer.Peer, task string, s api.Send) (m api.Message, again bool, err error) {
	t, err := p.FindTask(task)
	if err != nil {
		return api.Message{}, false, err
	}
	typ, ok := sendTypes[s.Type]
	if !ok {
		return api.Message{}, false, fmt.Errorf("%w: unknown message type %q (text, reply, edit, delete, reaction)", peer.ErrInvalid, s.Type)
	}
	d := peer.Draft{Type: typ, Text: s.Text, Key: s.IdempotencyKey}
	if s.Ref != "" {
		if d.Ref, err = resolveHead(ctx, p, t.ID, s.Ref); err != nil {
			return api.Message{}, false, err
		}
		s.Ref = headID(d.Ref)
		if typ == pb.Type_TYPE_TEXT {
			d.Type = pb.Type_TYPE_REPLY
		}
	} else if typ != pb.Type_TYPE_TEXT {
		return api.Message{}, false, fmt.Errorf("%w: %q needs ref (the message ID)", peer.ErrInvalid, s.Type)
	}
	h, again, err := p.Post(ctx, t.ID, d)
	if err != nil {
		return api.Message{}, false, err
	}
	return api.Message{ID: headID(h), Author: h.Author.String(), Index: h.Index, Task: t.ID.String(), Type: s.Type, Text: s.Text, Ref: s.Ref}, again, nil
}

func opMessages(ctx context.Context, p *peer.Peer, task string, limit int, before string) ([]api.Message, error) {
	t, err := p.FindTask(task)
	if err != nil {
		return nil, err
	}
	o := &peer.TimelineOptions{Limit: limit}
	if before != "" {
		h, err := resolveHead(ctx, p, t.ID, before)
		if err != nil {
			return nil, err
		}
		k, err := p.Position(ctx, t.ID, h)
		if err != nil {
			return nil, err
		}
		o.Before = &k
	}
	ms, err := p.Timeline(ctx, t.ID, o)
	if err != nil {
		return nil, err
	}
	out := make([]api.Message, 0, len(ms))
	for _, m := range ms {
		out = append(out, toAPI(ctx, p, m))
	}
	return out, nil
}

// opFollow calls ready once subscribed (nil: nothing), then f for every
// new message of task. A reader that falls behind resumes by itself
// where it was, so it misses nothing.
func opFollow(ctx context.Context, p *peer.Peer, task string, ready func(), f func(api.Message) error) error {
	after := ""
	for {
		err := opStream(ctx, p, task, after, func(string) {
			if ready != nil {
				ready()
				ready = nil
			}
		}, func(m api.Message, pos string) error {
			after = pos
			return f(m)
		})
		var lag *lagged
		if !errors.As(err, &lag) {
			return err
		}
		after = lag.after
	}
}

// lagged is opStream's end when its reader fell behind: after is where
// to resume.
type lagged struct {
	after string
	err   error
}

func (l *lagged) Error() string { return l.err.Error() }
func (l *lagged) Unwrap() error { return l.err }

// opStream follows task from after (a peer.Progress in text; "" for only
// new messages): ready gets the starting position once subscribed, then
// f each message with the position just after it. When the reader falls
// behind, it ends with a *lagged naming the position to resume from.
func opStream(ctx context.Context, p *peer.Peer, task, after string, ready func(pos string), f func(m api.Message, pos string) error) error {
	t, err := p.FindTask(task)
	if err != nil {
		return err
	}
	var from peer.Progress
	if after != "" {
		if from, err = peer.ParseProgress(after); err != nil {
			return err
		}
	}
	sub, err := p.SubscribeAfter(t.ID, from)
	if err != nil {
		return err
	}
	defer sub.Close()
	pos := sub.Start()
	ready(pos.String())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-sub.C:
			if !ok {
				if err := sub.Err(); errors.Is(err, peer.ErrLagged) {
					return &lagged{after: pos.String(), err: err}
				}
				return peer.ErrClosed
			}
			pos.Add(m.Head)
			if err := f(toAPI(ctx, p, m), pos.String()); err != nil {
				return err
			}
		}
	}
}
