package peer

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/peer/pb"
)

// Lower layers hand events up to the messenger through a queue; they
// never call into its locked state. io's callbacks (Accept, Handshaken)
// run inside a handshake, on io's goroutines: they enqueue and return,
// and the shell's goroutine (watchLoop) handles the events in order,
// before it reads the logs the events may concern.

// event is one thing a lower layer reported. One field is set.
type event struct {
	intro  *introduced
	shaken *folioio.Handshake
}

// introduced is an introduction the gate let in: remote's book for us in
// task, with the introducer's view of the members and tasks.
type introduced struct {
	remote peer.ID
	task   TaskID
	key    []byte
	meta   *pb.IntroMeta
	invite bool // let in by an invite's token: a newcomer to welcome
}

// eventQueue is the events not handled yet. Its lock is held for an
// append or a swap only.
type eventQueue struct {
	mu sync.Mutex
	q  []event
}

// enqueue hands e to the shell. It never blocks on the messenger.
func (p *Peer) enqueue(e event) {
	p.events.mu.Lock()
	p.events.q = append(p.events.q, e)
	p.events.mu.Unlock()
	p.kickWatcher()
}

// takeEvents returns, and forgets, the events not handled yet, oldest
// first.
func (p *Peer) takeEvents() []event {
	p.events.mu.Lock()
	defer p.events.mu.Unlock()
	q := p.events.q
	p.events.q = nil
	return q
}

// handleEvents runs on the shell's goroutine.
func (p *Peer) handleEvents() {
	for _, e := range p.takeEvents() {
		switch {
		case e.intro != nil:
			p.onIntroduced(e.intro)
		case e.shaken != nil:
			p.ackShared(*e.shaken)
		}
	}
}
