package peer

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/peer/pb"
)

// Name is how a peer calls itself: this peer's profile name, or the name
// on the first page (the Address) of a member's book. "" if unknown.
func (p *Peer) Name(ctx context.Context, id peer.ID) string {
	if id == p.me {
		if prof, _, err := p.v.Profile(ctx); err == nil {
			return prof.Name
		}
		return ""
	}
	p.mu.Lock()
	if n, ok := p.names[id]; ok {
		p.mu.Unlock()
		return n
	}
	var key []byte
	for _, r := range p.roots {
		if m := r.members[id]; m != nil && m.book != nil {
			key = m.book
			break
		}
	}
	p.mu.Unlock()
	if key == nil {
		return ""
	}
	b, err := p.v.DB().OpenKey(ctx, key)
	if err != nil {
		return ""
	}
	page, err := b.Get(ctx, 0, &book.GetOptions{LocalOnly: true})
	if err != nil {
		return ""
	}
	var a pb.Address
	if proto.Unmarshal(page, &a) != nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// A name a profile message set meanwhile is newer than the Address.
	if n, ok := p.names[id]; ok {
		return n
	}
	p.names[id] = a.Name
	return a.Name
}
