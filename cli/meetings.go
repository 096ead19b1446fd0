package cli

import (
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
)

// meetings decides what `folio run` says of peers and messages; it keeps
// no clock of its own and does no I/O, so the rules are tested alone.
//
// A meeting lasts from the first session with a peer to the loss of its
// last connection: a session that replaces another is not a new meeting.
// What a peer just met wrote before the meeting is catch-up, counted, not
// listed; catching up ends after quiet with no such message. Messages
// written before the log started are never news.
type meetings struct {
	started  time.Time
	quiet    time.Duration
	meeting  map[libp2ppeer.ID]bool
	catching map[libp2ppeer.ID]*catchUp
}

// catchUp counts what a peer just met brings that it wrote before.
type catchUp struct {
	n           int
	since, last time.Time // the meeting; the last message counted
}

func newMeetings(started time.Time, quiet time.Duration) *meetings {
	return &meetings{started: started, quiet: quiet,
		meeting: map[libp2ppeer.ID]bool{}, catching: map[libp2ppeer.ID]*catchUp{}}
}

// met reports whether a session with id starts a new meeting.
func (m *meetings) met(id libp2ppeer.ID, now time.Time) bool {
	if m.meeting[id] {
		return false
	}
	m.meeting[id] = true
	m.catching[id] = &catchUp{since: now, last: now}
	return true
}

// lost ends the meeting with id.
func (m *meetings) lost(id libp2ppeer.ID) { delete(m.meeting, id) }

// news reports whether a message by author written at written is news.
func (m *meetings) news(author libp2ppeer.ID, written, now time.Time) bool {
	if c := m.catching[author]; c != nil && written.Before(c.since) {
		c.n++
		c.last = now
		return false
	}
	return !written.Before(m.started)
}

// caughtUp returns the peers whose catch-up ended by now, with the
// number of messages each brought, and forgets them.
func (m *meetings) caughtUp(now time.Time) map[libp2ppeer.ID]int {
	var done map[libp2ppeer.ID]int
	for id, c := range m.catching {
		if now.Sub(c.last) >= m.quiet {
			if done == nil {
				done = map[libp2ppeer.ID]int{}
			}
			done[id] = c.n
			delete(m.catching, id)
		}
	}
	return done
}
