package peer

import (
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

// ackShared is the shell's half of a handshake's report, on the shell's
// goroutine: the core's step (core.handshaken) with the books it shared.
func (p *Peer) ackShared(h folioio.Handshake) {
	if len(h.Shared) == 0 {
		return
	}
	shared := make(map[string]bool, len(h.Shared))
	for _, s := range h.Shared {
		shared[string(s.Key)] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handshaken(h.Remote, shared)
}
