package cli

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/peer"
)

// The verbs beyond sending, on a *peer.Peer, shared by the API's
// handlers and the commands that open the vault themselves (see local.go).

func opMembers(ctx context.Context, p *peer.Peer, task string) ([]api.Member, error) {
	t, err := p.FindTask(task)
	if err != nil {
		return nil, err
	}
	if t.Root != t.ID {
		if t, err = p.Task(t.Root); err != nil {
			return nil, err
		}
	}
	h := p.Vault().Host() // nil offline: nobody is online
	out := []api.Member{}
	for _, id := range t.Members {
		m := api.Member{ID: id.String(), Name: p.Name(ctx, id), Me: id == p.ID()}
		m.Online = m.Me || (h != nil && h.Network().Connectedness(id) == network.Connected)
		out = append(out, m)
	}
	return out, nil
}

func opMarkRead(ctx context.Context, p *peer.Peer, task, upto string) (api.Task, error) {
	t, err := p.FindTask(task)
	if err != nil {
		return api.Task{}, err
	}
	if upto == "" {
		err = p.MarkRead(ctx, t.ID)
	} else {
		var h peer.Head
		if h, err = resolveHead(ctx, p, t.ID, upto); err == nil {
			err = p.MarkReadAt(ctx, t.ID, h)
		}
	}
	if err != nil {
		return api.Task{}, err
	}
	return taskAPI(ctx, p, t), nil
}

// opTaskVerb runs one of leave, rename (with title) and close on task and
// returns the task as it is after.
func opTaskVerb(ctx context.Context, p *peer.Peer, task, verb, title string) (api.Task, error) {
	t, err := p.FindTask(task)
	if err != nil {
		return api.Task{}, err
	}
	switch verb {
	case "leave":
		if t.Root != t.ID {
			return api.Task{}, fmt.Errorf("%w: a subtask shares its task's members: leave the task itself", peer.ErrInvalid)
		}
		err = p.Leave(ctx, t.ID)
	case "rename":
		err = p.RenameTask(ctx, t.ID, title)
	case "close":
		err = p.CloseTask(ctx, t.ID)
	default:
		err = fmt.Errorf("%w: unknown verb %q", peer.ErrInvalid, verb)
	}
	if err != nil {
		return api.Task{}, err
	}
	if t, err = p.Task(t.ID); err != nil {
		return api.Task{}, err
	}
	return taskAPI(ctx, p, t), nil
}

func opSetName(ctx context.Context, p *peer.Peer, dir, name string) (api.ID, error) {
	if err := p.SetName(ctx, name); err != nil {
		return api.ID{}, err
	}
	return api.ID{ID: p.ID().String(), Name: p.Name(ctx, p.ID()), Dir: dir}, nil
}
