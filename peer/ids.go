package peer

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TaskID names a task: 16 random bytes, shown as 32 hex digits.
type TaskID [16]byte

func (t TaskID) String() string { return hex.EncodeToString(t[:]) }

// ParseTaskID parses 32 hex digits (a unique prefix is resolved by
// Peer.FindTask).
func ParseTaskID(s string) (TaskID, error) {
	var t TaskID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(t) {
		return t, fmt.Errorf("%w: task ID %q is not 32 hex digits", ErrInvalid, s)
	}
	copy(t[:], b)
	return t, nil
}

func newTaskID() TaskID {
	var t TaskID
	rand.Read(t[:])
	return t
}

func taskOf(b []byte) (TaskID, bool) {
	var t TaskID
	if len(b) != len(t) {
		return t, false
	}
	copy(t[:], b)
	return t, true
}

// bookName is the title of the book author writes for reader in a task:
// "<author>-<reader>-<task>".
func bookName(author, reader peer.ID, task TaskID) string {
	return author.String() + "-" + reader.String() + "-" + task.String()
}

// Head identifies a message: its author and its index in the author's
// books for the task (Book is the book it was read from).
type Head struct {
	Author peer.ID
	Book   []byte
	Index  uint64
}

func (h Head) String() string {
	return fmt.Sprintf("%s/%d", h.Author, h.Index)
}

// msgKey is a message's identity inside a task.
type msgKey struct {
	author peer.ID
	index  uint64
}

func peerID(s string) peer.ID { return peer.ID(s) }
