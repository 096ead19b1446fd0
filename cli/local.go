package cli

import (
	"context"
	"fmt"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/peer"
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

func opSend(ctx context.Context, p *peer.Peer, task string, s api.Send) (api.Message, error) {
	t, err := p.FindTask(task)
	if err != nil {
		return api.Message{}, err
	}
	var ref peer.Head
	if s.Ref != "" {
		if ref, err = parseHead(s.Ref); err != nil {
			return api.Message{}, err
		}
	}
	needRef := func() error {
		if s.Ref == "" {
			return fmt.Errorf("%w: %q needs ref (the message ID)", peer.ErrInvalid, s.Type)
		}
		return nil
	}
	var h peer.Head
	switch s.Type {
	case "", "text":
		if s.Ref != "" {
			h, err = p.Reply(ctx, t.ID, ref, s.Text)
		} else {
			h, err = p.Send(ctx, t.ID, s.Text)
		}
	case "reply":
		if err = needRef(); err == nil {
			h, err = p.Reply(ctx, t.ID, ref, s.Text)
		}
	case "edit":
		if err = needRef(); err == nil {
			h, err = p.Edit(ctx, t.ID, ref, s.Text)
		}
	case "delete":
		if err = needRef(); err == nil {
			h, err = p.Delete(ctx, t.ID, ref)
		}
	case "reaction":
		if err = needRef(); err == nil {
			h, err = p.React(ctx, t.ID, ref, s.Text)
		}
	default:
		err = fmt.Errorf("%w: unknown message type %q (text, reply, edit, delete, reaction)", peer.ErrInvalid, s.Type)
	}
	if err != nil {
		return api.Message{}, err
	}
	return api.Message{ID: headID(h), Author: h.Author.String(), Index: h.Index, Task: t.ID.String(), Type: s.Type, Text: s.Text, Ref: s.Ref}, nil
}

func opMessages(ctx context.Context, p *peer.Peer, task string, limit int, before string) ([]api.Message, error) {
	t, err := p.FindTask(task)
	if err != nil {
		return nil, err
	}
	o := &peer.TimelineOptions{Limit: limit}
	if before != "" {
		h, err := parseHead(before)
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
// new message of task.
func opFollow(ctx context.Context, p *peer.Peer, task string, ready func(), f func(api.Message) error) error {
	t, err := p.FindTask(task)
	if err != nil {
		return err
	}
	sub, err := p.Subscribe(t.ID)
	if err != nil {
		return err
	}
	defer sub.Close()
	if ready != nil {
		ready()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-sub.C:
			if !ok {
				return peer.ErrClosed
			}
			if err := f(toAPI(ctx, p, m)); err != nil {
				return err
			}
		}
	}
}
