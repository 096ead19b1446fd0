package book

import "context"

// A Pacer spreads appends over time, so that a store's background work
// keeps up without stopping every write at once (the db package paces
// appends over Pebble's memtable flushes). Wait is called before an append
// or an ApplyProof takes its book's lock, with about the bytes it will
// commit; it returns once they may be committed, or ctx's error, in which
// case the append (or the proof) fails and writes nothing.
type Pacer interface {
	Wait(ctx context.Context, bytes int) error
}

// storeSize is about the bytes storing p writes: its pages, a node
// record per page and per node it carries, and the head. Nil-safe.
func (p *Proof) storeSize() int {
	const perRecord = 64 // key, hash or node value, lengths
	if p == nil {
		return 0
	}
	n := perRecord // the head
	if p.Page != nil {
		n += len(p.Page.Value) + perRecord*(1+len(p.Page.Nodes))
	}
	if p.Range != nil {
		for _, v := range p.Range.Values {
			n += len(v) + 2*perRecord // the page and about one parent
		}
		n += perRecord * len(p.Range.Nodes)
	}
	if p.Upgrade != nil {
		n += perRecord * (len(p.Upgrade.Roots) + len(p.Upgrade.Nodes))
	}
	return n
}

// pace asks o's Pacer, if any, to let n bytes through.
func (o *Options) pace(ctx context.Context, n int) error {
	if o.Pacer == nil || n <= 0 {
		return nil
	}
	return o.Pacer.Wait(ctx, n)
}
