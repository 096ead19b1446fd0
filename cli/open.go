package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/folio-p2p/folio/api"
	folioPeer "github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// How a command without a daemon gets the vault.
//
// Only the commands that talk to other peers start the network (c.online:
// join, chat, log --follow, run; invite when the vault has no address
// recorded). The others (init, id, task, send, log, invite) open the vault
// Offline: nothing listens, nothing is sent, and what they write leaves
// when the vault next runs online (folio run) and meets its members.
//
// The vault is one process's at a time. A command finding it held by
// another waits for it, saying so once on stderr, for --wait at most.

// defaultWait is --wait's default.
const defaultWait = 10 * time.Second

// waitingNote is what a command waiting for the vault says on stderr.
const waitingNote = "waiting for the vault (another folio command holds it)…"

// retryEvery is how often a waiting command tries the vault again.
const retryEvery = 100 * time.Millisecond

// openPeer opens the peer on c.dir, waiting while another folio command
// holds the vault. With daemon set, a daemon answering on the vault's
// socket (one may start while we wait) ends the wait: its client is
// returned instead of a peer.
func (c *cmd) openPeer(ctx context.Context, o *folioPeer.Options, daemon bool) (*folioPeer.Peer, *api.Client, error) {
	var deadline time.Time // set on the first refusal
	for {
		if daemon {
			if cl, err := api.Dial(ctx, c.dir); err == nil {
				return nil, cl, nil
			}
		}
		p, err := folioPeer.Open(ctx, c.dir, o)
		if err == nil || !errors.Is(err, vault.ErrLocked) {
			return p, nil, err
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(c.wait)
			if c.wait > 0 {
				fmt.Fprintln(c.stderr, waitingNote)
			}
		}
		if !now.Before(deadline) {
			return nil, nil, c.heldError()
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(min(retryEvery, deadline.Sub(now))):
		}
	}
}

// heldError says who holds the vault, and what to do about it.
func (c *cmd) heldError() error {
	who := vault.Holder(c.dir)
	if who == "" {
		who = "another process"
	}
	return fmt.Errorf("%w: %s is held by %s; waited %v (--wait): try again when it ends, or keep folio run running so that commands share the vault through it",
		vault.ErrLocked, c.dir, who, c.wait)
}

// inviteBackend is invite's backend: offline when the vault has addresses
// recorded (by its last online run) to put in the code, else online, for
// the host's (once the task is known to exist).
func (c *cmd) inviteBackend(ctx context.Context, args []string) (backend, func(), error) {
	b, done, err := c.open(ctx, args, 1, 1)
	l, ok := b.(*local)
	if err != nil || !ok || len(l.p.Vault().Addrs()) > 0 {
		return b, done, err
	}
	_, err = l.p.FindTask(c.arg(0))
	done()
	if err != nil {
		return nil, nil, err
	}
	c.online = true
	return c.backend(ctx)
}
