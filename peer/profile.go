package peer

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer/pb"
)

// MaxNameSize bounds a name, in bytes.
const MaxNameSize = 128

// SetName changes this peer's name: in its profile, and for the members
// of every task it is in, as a profile message (type profile, the name as
// its text) in each root task. The first page of a pair book (its
// Address) keeps the name it was written with; a later profile message
// overrides it (see Name).
func (p *Peer) SetName(ctx context.Context, name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxNameSize || !utf8.ValidString(name) {
		return fmt.Errorf("%w: a name is 1 to %d bytes of UTF-8", ErrInvalid, MaxNameSize)
	}
	if err := p.v.SetProfile(ctx, name, ""); err != nil {
		return err
	}
	p.mu.Lock()
	var roots []TaskID
	for id, r := range p.roots {
		if !r.gone[p.me] {
			roots = append(roots, id)
		}
	}
	p.mu.Unlock()
	for _, id := range roots {
		if _, err := p.send(ctx, id, pb.Type_TYPE_PROFILE, []byte(name), nil); err != nil {
			return fmt.Errorf("telling task %s: %w", id, err)
		}
	}
	return nil
}

// renamed is the core's step for a profile message of author: its name,
// in every task (Messages are applied in each author's log order, so the
// newest wins). O(1): one name per author, not one per task.
func (c *core) renamed(author peer.ID, name string) {
	if author == c.me || name == "" || len(name) > MaxNameSize {
		return
	}
	c.names[author] = name
}
