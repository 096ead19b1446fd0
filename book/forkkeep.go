package book

import (
	"github.com/cockroachdb/pebble/v2"
)

// Moving to a new fork. The author truncated to some length and appended
// again, so the new tree shares a prefix with the old one. A reader keeps
// what lies below that prefix: for each root of the new head, left to right,
// if the node it stores at the root's index has the root's hash and size,
// the whole subtree under it is the new tree's too (every stored node under
// it was verified as hashing up to it), and so are its pages. The first root
// that does not match ends the prefix; everything from there on, and every
// stored node above the prefix whose span reaches past it, is deleted.

// keptPrefix returns how many leading pages of h's tree the nodes stored
// under k prove (0 when none).
func keptPrefix(r pebble.Reader, k keys, h *Head) uint64 {
	var pages uint64
	for _, root := range h.Roots {
		n, err := getNode(r, k, root.Index)
		if err != nil || n.Hash != root.Hash || n.Size != root.Size {
			break
		}
		pages += 1 << depth(root.Index)
	}
	return pages
}

// dropFrom deletes, in batch, the pages from page kept on and every tree
// node not inside the first kept pages' subtrees.
func dropFrom(batch *pebble.Batch, k keys, kept uint64) error {
	_, pageEnd := k.span(tagPage)
	_, nodeEnd := k.span(tagNode)
	if err := batch.DeleteRange(k.page(kept), pageEnd, nil); err != nil {
		return err
	}
	if kept == 0 {
		start, _ := k.span(tagNode)
		return batch.DeleteRange(start, nodeEnd, nil)
	}
	// Nodes of the kept subtrees have indices below 2*kept-1; those at or
	// past it span later pages.
	if err := batch.DeleteRange(k.node(2*kept-1), nodeEnd, nil); err != nil {
		return err
	}
	// Below it, only the one node per depth whose span holds both page
	// kept-1 and page kept is not in a kept subtree.
	for d := uint64(1); d < 64; d++ {
		off := kept >> d
		if off<<d == kept {
			continue // page kept starts this depth's node: nothing crosses
		}
		if i := nodeIndex(d, off); i < 2*kept-1 {
			if err := batch.Delete(k.node(i), nil); err != nil {
				return err
			}
		}
	}
	return nil
}
