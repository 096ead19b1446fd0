package book

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Get returns page i. When the page is not stored here it waits until it
// is appended or replicated, the context is done, or the book closes; with
// GetOptions.LocalOnly it returns ErrNotFound at once.
func (b *Book) Get(ctx context.Context, i uint64, o *GetOptions) ([]byte, error) {
	for {
		if err := b.checkOpen(); err != nil {
			return nil, err
		}
		page, err := getPage(b.pdb, b.keys, i, b.state.Load().head.Length)
		if err == nil || !errors.Is(err, ErrNotFound) || (o != nil && o.LocalOnly) {
			return page, b.wrapReadErr(i, err)
		}
		// Missing: take the change channel, then look once more, so an
		// append between the two reads is not missed.
		ch := b.notify.wait()
		if page, err = getPage(b.pdb, b.keys, i, b.state.Load().head.Length); !errors.Is(err, ErrNotFound) {
			return page, b.wrapReadErr(i, err)
		}
		if ch == nil {
			return nil, ErrClosed
		}
		b.wants.add(i) // replication fetches what local readers wait for
		b.notify.poke()
		select {
		case <-ch:
			b.wants.remove(i)
		case <-ctx.Done():
			b.wants.remove(i)
			b.notify.poke()
			return nil, fmt.Errorf("book %s: page %d: %w", b.name, i, ctx.Err())
		}
	}
}

// Has reports whether page i is stored here.
func (b *Book) Has(i uint64) (bool, error) {
	if err := b.checkOpen(); err != nil {
		return false, err
	}
	return hasPage(b.pdb, b.keys, i, b.state.Load().head.Length)
}

func (b *Book) wrapReadErr(i uint64, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrCorrupt) {
		b.opts.EventListener.corruption(CorruptionInfo{Book: b.name, Err: err})
	}
	return fmt.Errorf("book %s: page %d: %w", b.name, i, err)
}

// getPage reads page i from r, checking its record. Pages at or past length
// are not part of the signed book and are never returned.
func getPage(r pebble.Reader, k keys, i, length uint64) ([]byte, error) {
	if i >= length {
		return nil, ErrNotFound
	}
	v, closer, err := r.Get(k.page(i))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	if len(v) < HashSize {
		return nil, fmt.Errorf("%w: page record is %d bytes", ErrCorrupt, len(v))
	}
	out := make([]byte, len(v)-HashSize) // non-nil even for an empty page
	copy(out, v[HashSize:])
	return out, nil
}

func hasPage(r pebble.Reader, k keys, i, length uint64) (bool, error) {
	if i >= length {
		return false, nil
	}
	_, closer, err := r.Get(k.page(i))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	closer.Close()
	return true, nil
}

// getNode reads tree node i: leaves from their page record, or from a node
// record when only the hash is held; parents from node records.
func getNode(r pebble.Reader, k keys, i uint64) (Node, error) {
	if depth(i) == 0 {
		v, closer, err := r.Get(k.page(i / 2))
		if err == nil {
			defer closer.Close()
			if len(v) < HashSize {
				return Node{}, fmt.Errorf("%w: page record %d is %d bytes", ErrCorrupt, i/2, len(v))
			}
			n := Node{Index: i, Size: uint64(len(v) - HashSize)}
			copy(n.Hash[:], v)
			return n, nil
		}
		if !errors.Is(err, pebble.ErrNotFound) {
			return Node{}, err
		}
	}
	v, closer, err := r.Get(k.node(i))
	if errors.Is(err, pebble.ErrNotFound) {
		return Node{}, fmt.Errorf("%w: tree node %d", ErrNotFound, i)
	}
	if err != nil {
		return Node{}, err
	}
	defer closer.Close()
	return decodeNodeValue(i, v)
}

// Seek returns the page holding byte offset off and the offset inside it.
// It descends from the roots using node sizes, so it needs the nodes on
// the path (a writable book has them all).
func (b *Book) Seek(ctx context.Context, off uint64) (page, rel uint64, err error) {
	if err := b.checkOpen(); err != nil {
		return 0, 0, err
	}
	return seek(b.pdb, b.keys, b.state.Load().head, off)
}

func seek(r pebble.Reader, k keys, h *Head, off uint64) (uint64, uint64, error) {
	if off >= h.ByteLength {
		return 0, 0, fmt.Errorf("%w: byte offset %d, byte length %d", ErrOutOfRange, off, h.ByteLength)
	}
	var n Node
	for _, root := range h.Roots {
		if off < root.Size {
			n = root
			break
		}
		off -= root.Size
	}
	for depth(n.Index) > 0 {
		li, ri, _ := children(n.Index)
		left, err := getNode(r, k, li)
		if err != nil {
			return 0, 0, err
		}
		if off < left.Size {
			n = left
			continue
		}
		off -= left.Size
		if n, err = getNode(r, k, ri); err != nil {
			return 0, 0, err
		}
	}
	return n.Index / 2, off, nil
}
