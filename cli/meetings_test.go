package cli

import (
	"testing"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
)

// TestMeetings: what `folio run` calls a meeting, catch-up and news.
func TestMeetings(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	bob, cleo := libp2ppeer.ID("bob"), libp2ppeer.ID("cleo")
	m := newMeetings(at(0), 2*time.Second)

	if !m.met(bob, at(10)) {
		t.Fatal("first session with bob is not a meeting")
	}
	if m.news(bob, at(9), at(11)) {
		t.Error("a message bob wrote before the meeting is news")
	}
	if !m.news(bob, at(11), at(11)) {
		t.Error("a message bob wrote during the meeting is not news")
	}
	if !m.news(cleo, at(5), at(11)) {
		t.Error("cleo's message, written after the start with no meeting under way, is not news")
	}
	if m.news(cleo, at(-1), at(11)) {
		t.Error("a message written before the log started is news")
	}
	if got := m.caughtUp(at(12)); len(got) != 0 {
		t.Errorf("caught up before 2 quiet seconds: %v", got)
	}
	if got := m.caughtUp(at(13)); got[bob] != 1 || len(got) != 1 {
		t.Errorf("caught up with %v, want bob with 1", got)
	}
	if got := m.caughtUp(at(20)); len(got) != 0 {
		t.Errorf("caught up twice: %v", got)
	}

	// A session that replaces another is the same meeting: what bob wrote
	// since the meeting stays news.
	if m.met(bob, at(30)) {
		t.Error("a replacing session started a new meeting")
	}
	if !m.news(bob, at(25), at(31)) {
		t.Error("bob's message written during the meeting became catch-up after a session was replaced")
	}

	// Lost, then met again: a new meeting with its own catch-up.
	m.lost(bob)
	if !m.met(bob, at(40)) {
		t.Fatal("meeting bob again after losing him is not a meeting")
	}
	if m.news(bob, at(35), at(41)) {
		t.Error("what bob wrote while away is news")
	}
}
