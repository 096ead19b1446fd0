package hypercore

import (
	"fmt"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// toProof translates a data message into a book proof for b. Blocks
// merged into an upgrade are not requested by this replicator, so a data
// message carrying both is refused.
func toProof(b *book.Book, d *wire.Data) (*book.Proof, error) {
	if d.Hash != nil || d.Seek != nil || (d.Block == nil && d.Upgrade == nil) {
		return nil, fmt.Errorf("%w: data with nothing we asked for", ErrBadProof)
	}
	if d.Block != nil && d.Upgrade != nil {
		return nil, fmt.Errorf("%w: block and upgrade together", ErrBadProof)
	}
	p := &book.Proof{Fork: d.Fork}
	if u := d.Upgrade; u != nil {
		head, signed := b.Head()
		// A head of a newer fork does not link to ours: the book takes
		// its roots on the signature alone and voids the old fork.
		up, err := toUpgrade(head, signed && d.Fork == head.Fork, u)
		if err != nil {
			return nil, err
		}
		p.Upgrade = up
	}
	if blk := d.Block; blk != nil {
		p.Page = &book.PageProof{Index: blk.Index, Value: blk.Value, Nodes: toBook(blk.Nodes)}
	}
	return p, nil
}
