package book

import "context"

// A Pacer spreads appends over time, so that a store's background work
// keeps up without stopping every write at once (the db package paces
// appends over Pebble's memtable flushes). Wait is called before an append
// takes its book's lock, with about the bytes it will commit; it returns
// once they may be committed, or ctx's error, in which case the append
// fails and writes nothing.
type Pacer interface {
	Wait(ctx context.Context, bytes int) error
}

// pace asks o's Pacer, if any, to let n bytes through.
func (o *Options) pace(ctx context.Context, n int) error {
	if o.Pacer == nil || n <= 0 {
		return nil
	}
	return o.Pacer.Wait(ctx, n)
}
