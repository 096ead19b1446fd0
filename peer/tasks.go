package peer

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// CreateTask creates a task, or a subtask of parent (a zero parent makes a
// root task). The structure change is a message, so every member sees it.
func (p *Peer) CreateTask(ctx context.Context, title string, parent TaskID) (TaskID, error) {
	if err := checkTitle(title); err != nil {
		return TaskID{}, err
	}
	id := newTaskID()
	target := id
	if parent != (TaskID{}) {
		p.mu.Lock()
		rid := p.rootOf(parent)
		_, ok := p.roots[rid]
		p.mu.Unlock()
		if !ok {
			return TaskID{}, fmt.Errorf("%w: parent %s", ErrNoTask, parent)
		}
		target = rid
		p.mu.Lock()
		p.sub[id] = rid
		p.mu.Unlock()
	} else {
		if err := p.record(ctx, &pb.Record{Body: &pb.Record_Task{Task: &pb.TaskUpdate{Task: id[:], Title: title}}}); err != nil {
			return TaskID{}, err
		}
		p.mu.Lock()
		p.rootFor(id)
		p.mu.Unlock()
	}
	u := &pb.TaskUpdate{Task: id[:], Title: title}
	if parent != (TaskID{}) {
		u.Parent = parent[:]
	}
	data, _ := proto.Marshal(u)
	if _, err := p.send(ctx, target, pb.Type_TYPE_TASK_UPDATE, data, nil); err != nil {
		return TaskID{}, err
	}
	return id, nil
}

// RenameTask gives a task a new title.
func (p *Peer) RenameTask(ctx context.Context, id TaskID, title string) error {
	if err := checkTitle(title); err != nil {
		return err
	}
	return p.updateTask(ctx, id, func(u *pb.TaskUpdate) { u.Title = title })
}

// CloseTask marks a task done.
func (p *Peer) CloseTask(ctx context.Context, id TaskID) error {
	return p.updateTask(ctx, id, func(u *pb.TaskUpdate) { u.Closed = true })
}

func (p *Peer) updateTask(ctx context.Context, id TaskID, f func(*pb.TaskUpdate)) error {
	t, err := p.Task(id)
	if err != nil {
		return err
	}
	u := &pb.TaskUpdate{Task: id[:], Title: t.Title, Closed: t.Closed}
	if t.Parent != (TaskID{}) {
		u.Parent = t.Parent[:]
	}
	f(u)
	data, _ := proto.Marshal(u)
	_, err = p.send(ctx, id, pb.Type_TYPE_TASK_UPDATE, data, nil)
	return err
}

func checkTitle(s string) error {
	if strings.TrimSpace(s) == "" || len(s) > 1024 {
		return fmt.Errorf("%w: a title is 1 to 1024 bytes", ErrInvalid)
	}
	return nil
}

// Tasks lists every task and subtask, roots first by title.
func (p *Peer) Tasks() []Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Task
	for _, r := range p.roots {
		for _, t := range r.tasks {
			out = append(out, p.taskLocked(r, t))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Parent == TaskID{}) != (out[j].Parent == TaskID{}) {
			return out[i].Parent == TaskID{}
		}
		if out[i].Title != out[j].Title {
			return out[i].Title < out[j].Title
		}
		return out[i].ID.String() < out[j].ID.String()
	})
	return out
}

// Task returns one task.
func (p *Peer) Task(id TaskID) (Task, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.roots[p.rootOf(id)]
	if r == nil || r.tasks[id] == nil {
		return Task{}, fmt.Errorf("%w: %s", ErrNoTask, id)
	}
	return p.taskLocked(r, r.tasks[id]), nil
}

// FindTask resolves a task by ID, unique ID prefix or exact title.
func (p *Peer) FindTask(s string) (Task, error) {
	var found []Task
	for _, t := range p.Tasks() {
		if t.ID.String() == s {
			return t, nil
		}
		if (len(s) >= 4 && strings.HasPrefix(t.ID.String(), strings.ToLower(s))) || t.Title == s {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return Task{}, fmt.Errorf("%w: %q", ErrNoTask, s)
	case 1:
		return found[0], nil
	}
	return Task{}, fmt.Errorf("%w: %q matches %d tasks; use more of the ID", ErrInvalid, s, len(found))
}

func (p *Peer) taskLocked(r *root, t *Task) Task {
	c := *t
	if t.ID == r.id {
		if !r.gone[p.me] {
			c.Members = []peer.ID{p.me}
		}
		for id := range r.members {
			if !r.gone[id] {
				c.Members = append(c.Members, id)
			}
		}
		sort.Slice(c.Members, func(i, j int) bool { return c.Members[i] < c.Members[j] })
	}
	return c
}

// Books returns the pair books of a task's root this peer holds: its own
// for each member and each member's for it (keys by title).
func (p *Peer) Books(id TaskID) (map[string][]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.roots[p.rootOf(id)]
	if r == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoTask, id)
	}
	out := map[string][]byte{}
	for reader, b := range r.myBooks {
		out[bookName(p.me, reader, r.id)] = b.Key()
	}
	for _, m := range r.members {
		if m.book != nil {
			out[bookName(m.id, p.me, r.id)] = m.book
		}
	}
	return out, nil
}

// Leave tells the task's members that this peer leaves it: a leave
// message, after which this peer no longer writes to the task (its books
// and history stay). Being invited again undoes it.
func (p *Peer) Leave(ctx context.Context, task TaskID) error {
	data, _ := proto.Marshal(&pb.Join{PeerId: []byte(p.me)})
	_, err := p.send(ctx, task, pb.Type_TYPE_LEAVE, data, nil)
	return err
}
