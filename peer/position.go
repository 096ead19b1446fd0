package peer

import (
	"context"
	"fmt"
)

// Position is where message h stands in task's timeline, for paging
// (TimelineOptions.Before).
func (p *Peer) Position(ctx context.Context, task TaskID, h Head) (Cursor, error) {
	p.mu.Lock()
	r := p.roots[p.rootOf(task)]
	if r == nil {
		p.mu.Unlock()
		return Cursor{}, fmt.Errorf("%w: %s", ErrNoTask, task)
	}
	srcs := p.sources(r)
	p.mu.Unlock()
	for _, s := range srcs {
		if s.author != h.Author || h.Index == 0 || h.Index >= s.length {
			continue
		}
		page, err := s.page(ctx, h.Index)
		if err != nil {
			break
		}
		env, err := decode(s.author, h.Index, page)
		if err != nil {
			return Cursor{}, fmt.Errorf("%w: %s is unreadable: %v", ErrNoMessage, h, err)
		}
		return Cursor{Clock: env.Meta.Clock, Author: h.Author, Index: h.Index}, nil
	}
	return Cursor{}, fmt.Errorf("%w: %s", ErrNoMessage, h)
}
