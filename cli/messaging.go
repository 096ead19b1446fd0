package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/internal/safeterm"
	folioPeer "github.com/folio-p2p/folio/peer"
)

// The commands about tasks and messages: task, invite, join, send, log.

func (c *cmd) task(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "new" && args[0] != "list") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(c.stdout, "usage: folio task new TITLE [--parent TASK] | folio task list [--json]\n")
			return flag.ErrHelp
		}
		return usagef("say folio task new TITLE or folio task list")
	}
	sub := args[0]
	args = args[1:]
	if sub == "list" {
		c.flags("task list [--json]", fJSON)
		b, done, err := c.open(ctx, args, 0, 0)
		if err != nil {
			return err
		}
		defer done()
		ts, err := b.Tasks(ctx)
		if err != nil {
			return err
		}
		if c.asJSON {
			c.printJSON(ts)
			return nil
		}
		if len(ts) == 0 {
			fmt.Fprintln(c.stdout, "no tasks yet: folio task new TITLE, or folio join CODE")
		}
		for _, t := range ts {
			indent := ""
			if t.Parent != "" {
				indent = "  └ "
			}
			state := ""
			if t.Closed {
				state = " (closed)"
			}
			fmt.Fprintf(c.stdout, "%s  %s%s%s  members %d, unread %d\n", t.ID[:8], indent, safeterm.Printable(t.Title), state, len(t.Members), t.Unread)
		}
		return nil
	}
	fs := c.flags("task new TITLE [--parent TASK]", fJSON)
	parent := fs.String("parent", "", "make it a subtask of this task")
	b, done, err := c.open(ctx, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	t, err := b.NewTask(ctx, api.NewTask{Title: c.arg(0), Parent: *parent})
	if err != nil {
		return err
	}
	return c.reply(t, "%s  %s\n", t.ID, safeterm.Printable(t.Title))
}

func (c *cmd) invite(ctx context.Context, args []string) error {
	c.flags("invite TASK", fJSON|fNet)
	b, done, err := c.inviteBackend(ctx, args)
	if err != nil {
		return err
	}
	defer done()
	in, err := b.Invite(ctx, c.arg(0))
	if err != nil {
		return err
	}
	return c.reply(in, "%v\n", in.Code)
}

func (c *cmd) join(ctx context.Context, args []string) error {
	fs := c.flags("join CODE [--timeout D]", fJSON|fNet)
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := c.parse(args, 1, 1); err != nil {
		return err
	}
	if _, err := folioPeer.DecodeInvite(c.arg(0)); err != nil {
		return err
	}
	c.online = true
	b, done, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	t, err := b.Join(ctx, c.arg(0))
	if err != nil {
		return err
	}
	return c.reply(t, "joined %s  %s\n", t.ID, safeterm.Printable(t.Title))
}

func (c *cmd) send(ctx context.Context, args []string) error {
	fs := c.flags("send TASK TEXT [--reply ID] [--idempotency-key KEY]", fJSON)
	reply := fs.String("reply", "", "the ID of the message this answers (<peer>/<index>)")
	key := fs.String("idempotency-key", "", "run again with the same KEY, this send writes nothing new and prints the same ID")
	b, done, err := c.open(ctx, args, 2, 2)
	if err != nil {
		return err
	}
	defer done()
	m, err := b.Send(ctx, c.arg(0), api.Send{Text: c.arg(1), Ref: *reply, IdempotencyKey: *key})
	if err != nil {
		return err
	}
	return c.reply(m, "%v\n", m.ID)
}

func (c *cmd) log(ctx context.Context, args []string) error {
	fs := c.flags("log TASK [--json] [--limit N] [--before ID] [--follow]", fJSON|fNet)
	limit := fs.Int("limit", 50, "show at most this many of the newest messages")
	before := fs.String("before", "", "show the messages before this one (its ID): older pages")
	follow := fs.Bool("follow", false, "keep printing new messages")
	if err := c.parse(args, 1, 1); err != nil {
		return err
	}
	if *limit <= 0 {
		return usagef("--limit must be positive")
	}
	c.online = *follow
	b, done, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer done()
	ms, err := b.Messages(ctx, c.arg(0), *limit, *before)
	if err != nil {
		return err
	}
	if c.asJSON && !*follow {
		c.printJSON(ms)
	} else {
		for _, m := range ms {
			c.printMessage(m)
		}
	}
	// What was shown is read (the marker never goes back).
	if len(ms) > 0 {
		if _, err := b.MarkRead(ctx, c.arg(0), ms[len(ms)-1].ID); err != nil {
			return err
		}
	}
	if !*follow {
		return nil
	}
	err = b.Follow(ctx, c.arg(0), func(m api.Message) error {
		c.printMessage(m)
		_, err := b.MarkRead(ctx, c.arg(0), m.ID)
		return err
	})
	if ctx.Err() != nil {
		return nil // interrupted: a normal end of --follow
	}
	return err
}
