package peer

import (
	"github.com/libp2p/go-libp2p/core/peer"

	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/vault"
)

// listen wraps the vault's listener (a user's own is kept and called
// first) to hear of handshakes.
func (p *Peer) listen(l *vault.EventListener) *vault.EventListener {
	out := vault.EventListener{}
	if l != nil {
		out = *l
	}
	user := out.Handshaken
	out.Handshaken = func(h folioio.Handshake) {
		if user != nil {
			user(h)
		}
		// Enqueued: the callback runs on io's goroutine, and the acks
		// are the messenger's state (Peer.mu).
		p.enqueue(event{shaken: &h})
	}
	return &out
}

// lastShared is the books shared in the latest full handshake with
// remote on the current connection (nil: none).
func (p *Peer) lastShared(remote peer.ID) map[string]bool {
	s := p.v.Swarm()
	if s == nil {
		return nil
	}
	for _, h := range s.Peers() {
		if h.Remote == remote {
			return sharedKeys(h)
		}
	}
	return nil
}

func sharedKeys(h folioio.Handshake) map[string]bool {
	shared := make(map[string]bool, len(h.Shared))
	for _, s := range h.Shared {
		shared[string(s.Key)] = true
	}
	return shared
}

// ackShared is the shell's half of a handshake's report, on the shell's
// goroutine: the core's step (core.handshaken) with the books it shared.
func (p *Peer) ackShared(h folioio.Handshake) {
	if len(h.Shared) == 0 {
		return
	}
	shared := sharedKeys(h)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handshaken(h.Remote, shared)
}
