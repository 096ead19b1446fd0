package cli

import (
	"context"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/peer"
)

// backend is what the commands need: the running daemon's API client, or
// the vault opened by the command itself.
type backend interface {
	ID(ctx context.Context) (*api.ID, error)
	Tasks(ctx context.Context) ([]api.Task, error)
	NewTask(ctx context.Context, t api.NewTask) (*api.Task, error)
	Invite(ctx context.Context, task string) (*api.Invite, error)
	Join(ctx context.Context, code string) (*api.Task, error)
	Send(ctx context.Context, task string, s api.Send) (*api.Message, error)
	Messages(ctx context.Context, task string, limit int, before string) ([]api.Message, error)
	Follow(ctx context.Context, task string, f func(api.Message) error) error
	FollowReady(ctx context.Context, task string, ready func(), f func(api.Message) error) error
	Members(ctx context.Context, task string) ([]api.Member, error)
	MarkRead(ctx context.Context, task, upto string) (*api.Task, error)
	Leave(ctx context.Context, task string) (*api.Task, error)
	Rename(ctx context.Context, task, title string) (*api.Task, error)
	CloseTask(ctx context.Context, task string) (*api.Task, error)
	Revoke(ctx context.Context, code string) error
	SetName(ctx context.Context, name string) (*api.ID, error)
}

var _ backend = (*api.Client)(nil)

// local serves the commands from a peer opened in this process.
type local struct {
	p   *peer.Peer
	dir string
}

func (l *local) ID(ctx context.Context) (*api.ID, error) {
	out := &api.ID{ID: l.p.ID().String(), Name: l.p.Name(ctx, l.p.ID()), Dir: l.dir}
	if h := l.p.Vault().Host(); h != nil { // offline: nothing listens
		for _, a := range h.Addrs() {
			out.Addrs = append(out.Addrs, a.String()+"/p2p/"+l.p.ID().String())
		}
	}
	return out, nil
}

func (l *local) Tasks(ctx context.Context) ([]api.Task, error) { return opTasks(ctx, l.p), nil }

func (l *local) NewTask(ctx context.Context, t api.NewTask) (*api.Task, error) {
	out, err := opNewTask(ctx, l.p, t)
	return &out, err
}

func (l *local) Invite(ctx context.Context, task string) (*api.Invite, error) {
	out, err := opInvite(ctx, l.p, task)
	return &out, err
}

func (l *local) Join(ctx context.Context, code string) (*api.Task, error) {
	out, err := opJoin(ctx, l.p, code)
	return &out, err
}

func (l *local) Send(ctx context.Context, task string, s api.Send) (*api.Message, error) {
	out, _, err := opSend(ctx, l.p, task, s)
	return &out, err
}

func (l *local) Messages(ctx context.Context, task string, limit int, before string) ([]api.Message, error) {
	return opMessages(ctx, l.p, task, limit, before)
}

func (l *local) Follow(ctx context.Context, task string, f func(api.Message) error) error {
	return opFollow(ctx, l.p, task, nil, f)
}

func (l *local) FollowReady(ctx context.Context, task string, ready func(), f func(api.Message) error) error {
	return opFollow(ctx, l.p, task, ready, f)
}

func (l *local) Members(ctx context.Context, task string) ([]api.Member, error) {
	return opMembers(ctx, l.p, task)
}

func (l *local) MarkRead(ctx context.Context, task, upto string) (*api.Task, error) {
	out, err := opMarkRead(ctx, l.p, task, upto)
	return &out, err
}

func (l *local) Leave(ctx context.Context, task string) (*api.Task, error) {
	out, err := opTaskVerb(ctx, l.p, task, "leave", "")
	return &out, err
}

func (l *local) Rename(ctx context.Context, task, title string) (*api.Task, error) {
	out, err := opTaskVerb(ctx, l.p, task, "rename", title)
	return &out, err
}

func (l *local) CloseTask(ctx context.Context, task string) (*api.Task, error) {
	out, err := opTaskVerb(ctx, l.p, task, "close", "")
	return &out, err
}

func (l *local) Revoke(ctx context.Context, code string) error { return l.p.RevokeInvite(ctx, code) }

func (l *local) SetName(ctx context.Context, name string) (*api.ID, error) {
	out, err := opSetName(ctx, l.p, l.dir, name)
	return &out, err
}
