package peer

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// run carries out the effects of a core step (core_state.go) that are
// the shell's: journal records go to the journal's queue, the gate is
// kept in step, books are opened, newcomers welcomed and introductions
// started in the background. Nothing here waits on the network or for a
// write. Call with p.mu held.
func (p *Peer) run(ctx context.Context, effs []effect) {
	for _, e := range effs {
		switch {
		case e.record != nil:
			p.recordLater(e.record)
		case e.admit != "":
			p.gate.admit(e.task, e.admit)
		case e.share != nil:
			p.gate.share(e.share.remote, e.share.key, e.share.old)
		case e.invite != nil:
			p.gate.addInvite(e.invite)
		case e.used != nil:
			p.gate.mark(e.used, true, false)
		case e.revoked != nil:
			p.gate.mark(e.revoked, false, true)
		case e.reopen != "":
			p.reopenLocked(ctx, e.task, e.reopen)
		case e.welcome != "":
			task, id := e.task, e.welcome
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.welcome(task, id)
			}()
		case e.introduce != "":
			if r := p.roots[e.task]; r != nil && r.members[e.introduce] != nil {
				p.introduceLocked(r, r.members[e.introduce])
			}
		case e.await != "":
			// Its own introduction is expected; the retry loop introduces
			// ours after Options.Retry if it does not come.
			if r := p.roots[e.task]; r != nil {
				if m := r.members[e.await]; m != nil && !m.acked && !m.introducing && m.lastTry.IsZero() {
					m.lastTry, m.awaited = time.Now(), true
				}
			}
		case e.poke:
			p.pokeTask(e.task)
		}
	}
	if p.grew {
		// A new member: the retry loop learns when it is due.
		p.grew = false
		p.kickRetry()
	}
}

// reopenLocked opens our book for member id of task, made in an earlier
// run, if there is one: the member most likely holds it already (see
// member.restored). Call with p.mu held.
func (p *Peer) reopenLocked(ctx context.Context, task TaskID, id peer.ID) {
	r := p.roots[task]
	if r == nil || r.members[id] == nil || r.myBooks[id] != nil {
		return
	}
	m := r.members[id]
	bk, err := p.v.DB().LookupName(bookName(p.me, id, task))
	if err != nil {
		return
	}
	b, err := p.v.DB().OpenKey(ctx, bk.Key)
	if err != nil {
		return
	}
	p.opened(r, id, b)
	m.restored = true
	p.gate.share(id, b.Key(), nil)
}
