package peer

import (
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// The formats this package owns, for tools that look inside a vault (the
// inspector) without re-deriving them.

// JournalName is the name of the peer's private journal book: its pages
// are pb.Record.
const JournalName = journalName

// PairBook names the book author writes for reader in a task: its title
// is "<author>-<reader>-<task>"; page 0 is a pb.Address, every later
// page a pb.Envelope.
type PairBook struct {
	Author, Reader peer.ID
	Task           TaskID
}

// String is the book's title.
func (b PairBook) String() string { return bookName(b.Author, b.Reader, b.Task) }

// ParseBookName reads a pair book's title; ok is false for any other name.
func ParseBookName(s string) (b PairBook, ok bool) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[2]) != 32 {
		return PairBook{}, false
	}
	var err error
	if b.Author, err = peer.Decode(parts[0]); err != nil {
		return PairBook{}, false
	}
	if b.Reader, err = peer.Decode(parts[1]); err != nil {
		return PairBook{}, false
	}
	if b.Task, err = ParseTaskID(parts[2]); err != nil {
		return PairBook{}, false
	}
	return b, true
}

// DecodeAddress reads page 0 of a pair book (a pb.Address): which pair
// book it is. ok is false for a page that is no Address.
func DecodeAddress(page []byte) (b PairBook, ok bool) {
	var a pb.Address
	if proto.Unmarshal(page, &a) != nil {
		return PairBook{}, false
	}
	task, ok := taskOf(a.Task)
	if !ok {
		return PairBook{}, false
	}
	var err error
	if b.Author, err = peer.IDFromBytes(a.Author); err != nil {
		return PairBook{}, false
	}
	if b.Reader, err = peer.IDFromBytes(a.Reader); err != nil {
		return PairBook{}, false
	}
	b.Task = task
	return b, true
}
