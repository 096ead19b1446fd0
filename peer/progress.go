package peer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Progress is how far a subscriber has read a task: per author, the index
// of the last message it received (an author not named: none yet). It is
// what a subscription resumes from (SubscribeAfter). Per author, a
// subscription hands messages over in index order, so Add after each
// message keeps it exact.
type Progress map[peer.ID]uint64

// maxProgressLen bounds a Progress in text (about a thousand authors).
const maxProgressLen = 64 << 10

// Add records that the message h was received.
func (pr Progress) Add(h Head) {
	if h.Index > pr[h.Author] {
		pr[h.Author] = h.Index
	}
}

// Clone returns a copy.
func (pr Progress) Clone() Progress {
	out := make(Progress, len(pr))
	for a, i := range pr {
		out[a] = i
	}
	return out
}

// String is the message IDs of pr, "<author>/<index>" joined by commas
// and sorted by author, or "0" when it names none (the empty string is
// kept for "no position").
func (pr Progress) String() string {
	ids := make([]string, 0, len(pr))
	for a, i := range pr {
		if i > 0 {
			ids = append(ids, Head{Author: a, Index: i}.String())
		}
	}
	if len(ids) == 0 {
		return "0"
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// ParseProgress reads a Progress.String (one message ID is a Progress
// too, naming one author).
func ParseProgress(s string) (Progress, error) {
	if len(s) > maxProgressLen {
		return nil, fmt.Errorf("%w: position of %d bytes (max %d)", ErrInvalid, len(s), maxProgressLen)
	}
	pr := Progress{}
	if s == "0" {
		return pr, nil
	}
	for _, id := range strings.Split(s, ",") {
		h, err := ParseHead(id)
		if err != nil {
			return nil, err
		}
		if _, dup := pr[h.Author]; dup {
			return nil, fmt.Errorf("%w: position %q names %s twice", ErrInvalid, s, h.Author)
		}
		pr[h.Author] = h.Index
	}
	return pr, nil
}

// ParseHead reads a message ID, "<author>/<index>".
func ParseHead(s string) (Head, error) {
	a, i, ok := strings.Cut(s, "/")
	if !ok {
		return Head{}, fmt.Errorf("%w: message ID %q is not <peer>/<index>", ErrInvalid, s)
	}
	id, err := peer.Decode(a)
	if err != nil {
		return Head{}, fmt.Errorf("%w: message ID %q: %v", ErrInvalid, s, err)
	}
	n, err := strconv.ParseUint(i, 10, 64)
	if err != nil {
		return Head{}, fmt.Errorf("%w: message ID %q: bad index", ErrInvalid, s)
	}
	return Head{Author: id, Index: n}, nil
}
