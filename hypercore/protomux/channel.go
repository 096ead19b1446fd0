package protomux

import (
	"sync"

	"github.com/folio-p2p/folio/hypercore/cenc"
)

// Channel is one side of a paired (or pairing) channel.
type Channel struct {
	mux      *Mux
	protocol string
	id       []byte
	h        Handler

	// Guarded by mux.mu.
	localID, remoteID uint64
	opened, closed    bool
	pendingHandshake  []byte

	closeOnce sync.Once
}

// Protocol is the channel's protocol name.
func (c *Channel) Protocol() string { return c.protocol }

// ID is the channel's id (hypercore: the discovery key).
func (c *Channel) ID() []byte { return c.id }

// Mux is the stream the channel belongs to.
func (c *Channel) Mux() *Mux { return c.mux }

// Send sends one message of type typ. Sending before the channel is
// paired is allowed (Node buffers it) but is not covered by the peer's
// handshake check, so callers should wait for Opened.
func (c *Channel) Send(typ uint64, body []byte) error {
	c.mux.mu.Lock()
	closed, lid := c.closed, c.localID
	c.mux.mu.Unlock()
	if closed {
		return ErrClosed
	}
	msg := cenc.AppendUint(make([]byte, 0, 2+len(body)+2), lid)
	msg = cenc.AppendUint(msg, typ)
	return c.mux.t.Write(append(msg, body...))
}

// Close closes the channel and tells the peer.
func (c *Channel) Close() error {
	c.mux.mu.Lock()
	lid, closed := c.localID, c.closed
	c.mux.mu.Unlock()
	if closed {
		return nil
	}
	c.closeLocal()
	return c.mux.write(cenc.AppendUint([]byte{0, ctlClose}, lid))
}

// closeLocal frees the channel's ids and calls Closed once. It does not
// write: callers that must tell the peer do so.
func (c *Channel) closeLocal() {
	c.closeOnce.Do(func() {
		m := c.mux
		m.mu.Lock()
		c.closed = true
		if c.localID >= 1 && c.localID <= uint64(len(m.local)) && m.local[c.localID-1] == c {
			m.local[c.localID-1] = nil
		}
		if c.remoteID >= 1 && c.remoteID <= uint64(len(m.remote)) && m.remote[c.remoteID-1] != nil && m.remote[c.remoteID-1].ch == c {
			m.remote[c.remoteID-1] = nil
		}
		m.mu.Unlock()
		c.h.Closed(c)
	})
}
