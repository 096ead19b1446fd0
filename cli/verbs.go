package cli

import (
	"context"
	"fmt"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/internal/safeterm"
)

// The commands beyond send and log: one per verb of the library.

// printTask prints a task after a verb: JSON, or its ID, title and state.
func (c *cmd) printTask(verb string, t *api.Task) {
	if c.asJSON {
		c.printJSON(t)
		return
	}
	state := ""
	if t.Closed {
		state = " (closed)"
	}
	fmt.Fprintf(c.stdout, "%s %s  %s%s  unread %d\n", verb, t.ID, safeterm.Printable(t.Title), state, t.Unread)
}

// taskCommand runs a verb that takes a task and prints it after.
func (c *cmd) taskCommand(ctx context.Context, args []string, usage, verb string, nargs int, do func(b backend) (*api.Task, error)) error {
	c.flags(usage, fJSON)
	b, done, err := c.open(ctx, args, nargs, nargs)
	if err != nil {
		return err
	}
	defer done()
	t, err := do(b)
	if err != nil {
		return err
	}
	c.printTask(verb, t)
	return nil
}

func (c *cmd) leave(ctx context.Context, args []string) error {
	return c.taskCommand(ctx, args, "leave TASK", "left", 1, func(b backend) (*api.Task, error) {
		return b.Leave(ctx, c.arg(0))
	})
}

func (c *cmd) rename(ctx context.Context, args []string) error {
	return c.taskCommand(ctx, args, "rename TASK TITLE", "renamed", 2, func(b backend) (*api.Task, error) {
		return b.Rename(ctx, c.arg(0), c.arg(1))
	})
}

func (c *cmd) closeTask(ctx context.Context, args []string) error {
	return c.taskCommand(ctx, args, "close TASK", "closed", 1, func(b backend) (*api.Task, error) {
		return b.CloseTask(ctx, c.arg(0))
	})
}

func (c *cmd) read(ctx context.Context, args []string) error {
	fs := c.flags("read TASK [--upto ID]", fJSON)
	upto := fs.String("upto", "", "mark read up to this message (default: the newest)")
	b, done, err := c.open(ctx, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	t, err := b.MarkRead(ctx, c.arg(0), *upto)
	if err != nil {
		return err
	}
	c.printTask("read", t)
	return nil
}

// refCommand sends a message that refers to another: edit, delete, react.
func (c *cmd) refCommand(ctx context.Context, args []string, usage, typ string, nargs int) error {
	c.flags(usage, fJSON)
	b, done, err := c.open(ctx, args, nargs, nargs)
	if err != nil {
		return err
	}
	defer done()
	s := api.Send{Type: typ, Ref: c.arg(1)}
	if nargs > 2 {
		s.Text = c.arg(2)
	}
	m, err := b.Send(ctx, c.arg(0), s)
	if err != nil {
		return err
	}
	return c.reply(m, "%v\n", m.ID)
}

func (c *cmd) edit(ctx context.Context, args []string) error {
	return c.refCommand(ctx, args, "edit TASK ID TEXT", "edit", 3)
}

func (c *cmd) del(ctx context.Context, args []string) error {
	return c.refCommand(ctx, args, "delete TASK ID", "delete", 2)
}

func (c *cmd) react(ctx context.Context, args []string) error {
	return c.refCommand(ctx, args, "react TASK ID REACTION", "reaction", 3)
}

func (c *cmd) members(ctx context.Context, args []string) error {
	c.flags("members TASK [--json]", fJSON)
	b, done, err := c.open(ctx, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	ms, err := b.Members(ctx, c.arg(0))
	if err != nil {
		return err
	}
	if c.asJSON {
		c.printJSON(ms)
		return nil
	}
	for _, m := range ms {
		name := m.Name
		if name == "" {
			name = "(no name)"
		}
		state := "offline"
		switch {
		case m.Me:
			state = "you"
		case m.Online:
			state = "online"
		}
		fmt.Fprintf(c.stdout, "%s  %s  %s\n", shortPeer(m.ID), safeterm.Printable(name), state)
	}
	return nil
}

func (c *cmd) revoke(ctx context.Context, args []string) error {
	c.flags("revoke CODE", fJSON)
	b, done, err := c.open(ctx, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	if err := b.Revoke(ctx, c.arg(0)); err != nil {
		return err
	}
	return c.reply(struct{}{}, "revoked: nobody can join with that code\n")
}

func (c *cmd) setName(ctx context.Context, args []string) error {
	c.flags("name NEW-NAME", fJSON)
	b, done, err := c.open(ctx, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	id, err := b.SetName(ctx, c.arg(0))
	if err != nil {
		return err
	}
	return c.reply(id, "you are now %s\n", safeterm.Printable(id.Name))
}
