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

// ackShared marks acked every member whose book from us the handshake
// shares: the remote offered it back, so it holds it, and no
// introduction is needed. Not before this process has introduced itself
// to the remote once (core.learn): that introduction tells it our
// addresses, which may have changed. It runs on the shell's goroutine.
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
	if !p.announced[h.Remote] {
		return
	}
	for _, r := range p.roots {
		if b := r.myBooks[h.Remote]; b != nil && shared[string(b.Key())] {
			if m := r.members[h.Remote]; m != nil {
				m.acked = true
			}
		}
	}
}
