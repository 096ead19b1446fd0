package protomux

import (
	"fmt"

	"github.com/folio-p2p/folio/hypercore/cenc"
)

// control handles OPEN, REJECT and CLOSE; others are ignored, as Node does.
func (m *Mux) control(typ uint64, d *cenc.Decoder) error {
	switch typ {
	case ctlOpen:
		return m.onOpen(d)
	case ctlReject:
		return m.onReject(d)
	case ctlClose:
		return m.onClose(d)
	}
	return nil
}

// onOpen records the peer's channel and pairs it with ours, or offers it
// to OnOpen, or rejects it.
func (m *Mux) onOpen(d *cenc.Decoder) error {
	rid := d.Uint()
	protocol := d.String()
	id := d.Buffer()
	hs := d.Rest()
	if d.Err() != nil {
		return fmt.Errorf("%w: open: %w", ErrProtocol, d.Err())
	}
	if rid == 0 {
		return m.write(cenc.AppendUint([]byte{0, ctlReject}, 0))
	}
	r := &remote{protocol: protocol, id: append([]byte(nil), id...), handshake: append([]byte(nil), hs...)}
	m.mu.Lock()
	// Like Node: a new remote id may grow the table by one only, and a
	// live slot may not be reused.
	switch {
	case rid == uint64(len(m.remote))+1:
		if m.open() >= m.opts.MaxChannels {
			m.mu.Unlock()
			return fmt.Errorf("%w: more than %d channels", ErrProtocol, m.opts.MaxChannels)
		}
		m.remote = append(m.remote, r)
	case rid <= uint64(len(m.remote)) && m.remote[rid-1] == nil:
		m.remote[rid-1] = r
	default:
		m.mu.Unlock()
		return fmt.Errorf("%w: open with channel id %d", ErrProtocol, rid)
	}
	ch := m.unpaired(protocol, id)
	if ch != nil {
		r.ch, ch.remoteID, ch.pendingHandshake = ch, rid, r.handshake
	}
	m.mu.Unlock()
	if ch == nil && m.opts.OnOpen != nil {
		m.opts.OnOpen(m, protocol, r.id)
	}
	m.mu.Lock()
	paired := r.ch != nil
	if !paired {
		m.remote[rid-1] = nil
	}
	m.mu.Unlock()
	if !paired {
		return m.write(cenc.AppendUint([]byte{0, ctlReject}, rid))
	}
	return nil
}

// open counts the peer's live channels; m.mu is held.
func (m *Mux) open() int {
	n := 0
	for _, r := range m.remote {
		if r != nil {
			n++
		}
	}
	return n
}

// unpaired finds our channel of that name still waiting for the peer.
func (m *Mux) unpaired(protocol string, id []byte) *Channel {
	for _, c := range m.local {
		if c != nil && c.remoteID == 0 && !c.closed && c.protocol == protocol && string(c.id) == string(id) {
			return c
		}
	}
	return nil
}

// onReject: the peer refused one of our channels (it names our id).
func (m *Mux) onReject(d *cenc.Decoder) error {
	lid := d.Uint()
	if d.Err() != nil {
		return fmt.Errorf("%w: reject: %w", ErrProtocol, d.Err())
	}
	m.mu.Lock()
	var ch *Channel
	if lid >= 1 && lid <= uint64(len(m.local)) {
		ch = m.local[lid-1]
	}
	m.mu.Unlock()
	if ch == nil || ch.remoteID != 0 {
		return fmt.Errorf("%w: reject of channel %d", ErrProtocol, lid)
	}
	ch.closeLocal()
	return nil
}

// onClose: the peer closed its channel (it names its own id).
func (m *Mux) onClose(d *cenc.Decoder) error {
	rid := d.Uint()
	if d.Err() != nil {
		return fmt.Errorf("%w: close: %w", ErrProtocol, d.Err())
	}
	m.mu.Lock()
	var ch *Channel
	if rid >= 1 && rid <= uint64(len(m.remote)) && m.remote[rid-1] != nil {
		ch = m.remote[rid-1].ch
		m.remote[rid-1] = nil
	}
	m.mu.Unlock()
	if ch != nil {
		ch.closeLocal()
	}
	return nil
}

// deliver hands a channel message to its handler; messages for channels
// closed or not (yet) paired are dropped, as Node drops them.
func (m *Mux) deliver(rid, typ uint64, msg []byte) error {
	m.mu.Lock()
	var ch *Channel
	if rid >= 1 && rid <= uint64(len(m.remote)) && m.remote[rid-1] != nil {
		ch = m.remote[rid-1].ch
	}
	m.mu.Unlock()
	if ch == nil || ch.closed || !ch.opened {
		return nil
	}
	return ch.h.Message(ch, typ, msg)
}

// deliverOpened calls Opened for channels that paired since the last call.
func (m *Mux) deliverOpened() error {
	m.mu.Lock()
	var ready []*Channel
	for _, c := range m.local {
		if c != nil && c.remoteID != 0 && !c.opened && !c.closed {
			c.opened = true
			ready = append(ready, c)
		}
	}
	m.mu.Unlock()
	for _, c := range ready {
		if err := c.h.Opened(c, c.pendingHandshake); err != nil {
			return err
		}
		c.pendingHandshake = nil
	}
	return nil
}

func (m *Mux) write(b []byte) error { return m.t.Write(b) }

// shutdown closes every channel when Run ends.
func (m *Mux) shutdown() {
	m.mu.Lock()
	m.closed = true
	chans := append([]*Channel(nil), m.local...)
	m.mu.Unlock()
	for _, c := range chans {
		if c != nil {
			c.closeLocal()
		}
	}
}
