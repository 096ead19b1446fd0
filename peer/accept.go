package peer

import (
	"crypto/ed25519"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/peer/pb"
)

// accept is the vault's Accept: it keeps a pair book introduced by a
// member (or by a newcomer holding one of our invites) and refuses the
// rest, saying why. It runs inside io's handshake, so it only checks
// (the gate) and enqueues: it never waits on Peer.mu and never writes.
// The shell records the member and its book, and welcomes a newcomer,
// when it handles the event (onIntroduced).
func (p *Peer) accept(remote peer.ID, in folioio.Introduction) error {
	var meta pb.IntroMeta
	if err := proto.Unmarshal(in.Meta, &meta); err != nil {
		return errNotIntro
	}
	id, ok := taskOf(meta.Task)
	if !ok {
		return errNotIntro
	}
	named := make([]peer.ID, 0, len(meta.Members))
	for _, j := range meta.Members {
		if pid, err := peer.IDFromBytes(j.PeerId); err == nil {
			named = append(named, pid)
		}
	}
	used, err := p.gate.check(remote, id, in.Token, named, p.o.Now())
	if err != nil {
		return err
	}
	if used != nil {
		// Queued for the journal writer, not written here.
		p.recordLater(&pb.Record{Body: &pb.Record_InviteUsed{InviteUsed: used}})
	}
	p.enqueue(event{intro: &introduced{remote: remote, task: id, key: append([]byte(nil), in.Key...), meta: &meta, invite: used != nil}})
	return nil
}

// onIntroduced is the shell's half of accept, on the shell's goroutine:
// the core's step for the introduction, and its effects.
func (p *Peer) onIntroduced(e *introduced) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.run(p.ctx, p.core.introduced(e))
	p.stepped(e.task) // a Join may wait for this book (awaitInviter)
}

// offerTo is the vault's Offer: the pair books of the tasks remote is a
// member of (ours for it and its for us), and nothing to anyone else, so
// a peer met by chance learns nothing of our books. It reads the gate,
// never Peer.mu: it runs inside io's handshake.
func (p *Peer) offerTo(remote peer.ID) []ed25519.PublicKey {
	return p.gate.offer(remote)
}
