// Package protomux multiplexes channels over one message stream the way
// Node's protomux does, so a Go peer can share a secret-stream with
// hypercore: every message is `uint channelId ‖ uint type ‖ body`, and
// channel 0 carries control messages (1 OPEN, 2 REJECT, 3 CLOSE, 0 BATCH).
//
// A channel is named by (protocol, id). Each side numbers its own channels
// from 1 and announces them with OPEN, which also carries the channel's
// handshake; a channel is paired when both sides have opened the same
// name. Messages are addressed with the sender's own id. A BATCH holds
// several messages, possibly for several channels (a zero length switches
// channel); Node sends batches when corked, so they are always parsed,
// while this package sends single messages.
//
// Mux.Run is the only reader: it dispatches to each channel's Handler on
// its own goroutine, in order, so a handler sees a channel's messages in
// the order they were sent and a slow handler slows the peer (TCP
// back-pressure) instead of growing a queue. An OPEN for a name nobody
// opened is offered to Options.OnOpen, and rejected if it declines. The
// number of channels a peer may open is bounded (Options.MaxChannels), as
// is every field through package cenc. It imports nothing of folio but
// hypercore/cenc.
package protomux
