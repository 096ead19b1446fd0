package db

// chanState is where a channel is in its life on a session. The session's
// core alone moves it, and only along these transitions:
//
//	            remote Open            remote Sync
//	chOffered ─────────────▶ chPaired ─────────────▶ chLive ◀──┐
//	                                                   │       │ remote Sync
//	                   NoData to a request sent since  ▼       │
//	                   the remote's latest Sync      chStalled ─┘
//
//	any state ──▶ chClosed: the remote sent Close, or the book froze
//	(equivocation) or closed. chClosed is final: the remote cannot open
//	the book again on this session.
//
// Requests go out only in chLive (schedule); pushes and answers need
// chLive or chStalled, since the remote's length is known there.
type chanState uint8

const (
	// chOffered: our Open is sent (or about to be), the remote's is not in.
	chOffered chanState = iota
	// chPaired: both sides opened the book; the remote's state is unknown
	// until its first Sync.
	chPaired
	// chLive: the remote's Sync is in; we ask for what it has that we lack.
	chLive
	// chStalled: the remote had none of what we asked for since its latest
	// Sync; we ask again after its next one.
	chStalled
	// chClosed: no more requests, answers or pushes on this channel.
	chClosed
)

func (s chanState) String() string {
	switch s {
	case chOffered:
		return "offered"
	case chPaired:
		return "paired"
	case chLive:
		return "live"
	case chStalled:
		return "stalled"
	case chClosed:
		return "closed"
	}
	return "invalid"
}

// canMove reports whether a channel may move from one state to another:
// the transitions drawn above, and staying where it is.
func canMove(from, to chanState) bool {
	switch {
	case from == to, to == chClosed:
		return true
	case from == chOffered:
		return to == chPaired
	case from == chPaired, from == chStalled:
		return to == chLive
	case from == chLive:
		return to == chStalled
	}
	return false
}

// move changes c's state. A transition canMove refuses panics: it would be
// a bug in the session, never the remote's doing.
func (c *channel) move(to chanState) {
	if !canMove(c.state, to) {
		panic("db: channel moves from " + c.state.String() + " to " + to.String())
	}
	c.state = to
}

// close ends c (from any state).
func (c *channel) close() { c.move(chClosed) }

// synced reports whether the remote's state is known (its Sync came).
func (c *channel) synced() bool { return c.state == chLive || c.state == chStalled }
