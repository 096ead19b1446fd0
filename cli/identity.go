package cli

import (
	"context"
	"fmt"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/internal/safeterm"
	folioPeer "github.com/folio-p2p/folio/peer"
)

// The commands about the vault and its peer: init, id.

func (c *cmd) init(ctx context.Context, args []string) error {
	fs := c.flags("init [--dir D] [--name NAME]", fJSON|fNoWait)
	fs.StringVar(&c.peerName, "name", "", "your name, as others will see it")
	if err := c.parse(args, 0, 0); err != nil {
		return err
	}
	if vaultExists(c.dir) {
		return fmt.Errorf("a vault already exists in %s (folio id --dir %s shows it)", c.dir, c.dir)
	}
	o, err := c.options()
	if err != nil {
		return err
	}
	p, err := folioPeer.Open(ctx, c.dir, o)
	if err != nil {
		return err
	}
	id := p.ID()
	if err := p.Close(); err != nil {
		return err
	}
	return c.reply(api.ID{ID: id.String(), Name: c.peerName, Dir: c.dir}, "created vault %s\npeer ID %s\n", c.dir, id)
}

func (c *cmd) id(ctx context.Context, args []string) error {
	c.flags("id [--dir D] [--json]", fJSON)
	b, done, err := c.open(ctx, args, 0, 0)
	if err != nil {
		return err
	}
	defer done()
	id, err := b.ID(ctx)
	if err != nil {
		return err
	}
	if c.asJSON {
		c.printJSON(id)
		return nil
	}
	fmt.Fprintf(c.stdout, "%s", id.ID)
	if id.Name != "" {
		fmt.Fprintf(c.stdout, " (%s)", safeterm.Printable(id.Name))
	}
	fmt.Fprintln(c.stdout)
	for _, a := range id.Addrs {
		fmt.Fprintf(c.stdout, "  %s\n", a)
	}
	if len(id.Addrs) == 0 {
		fmt.Fprintln(c.stdout, "  not listening (folio run starts the network)")
	}
	return nil
}
