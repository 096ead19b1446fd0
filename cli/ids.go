package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer"
)

// resolveHead reads a message ID in any form the tools print: the full
// "<peer>/<index>" (log --json, the API), the short "<last 6 of the
// peer>/<index>" that log and chat show, with or without its [brackets].
// The message must be in task's timeline: a reply, edit or reaction to a
// message that does not exist would never show anywhere.
func resolveHead(ctx context.Context, p *peer.Peer, task peer.TaskID, s string) (peer.Head, error) {
	s = strings.Trim(strings.TrimSpace(s), "[]")
	who, idx, ok := strings.Cut(s, "/")
	i, err := strconv.ParseUint(idx, 10, 64)
	if !ok || err != nil || who == "" {
		return peer.Head{}, fmt.Errorf("%w: %q is not a message ID (they look like 3xYz9q/4, as folio log shows them)", peer.ErrInvalid, s)
	}
	author, err := authorOf(p, task, who)
	switch {
	case errors.Is(err, errNoAuthor):
		return peer.Head{}, fmt.Errorf("%w: %s: %v", peer.ErrNoMessage, s, err)
	case err != nil:
		return peer.Head{}, err
	}
	h := peer.Head{Author: author, Index: i}
	if _, err := p.Position(ctx, task, h); err != nil {
		return peer.Head{}, fmt.Errorf("%w: %s is not in this task (folio log TASK shows its messages' IDs)", peer.ErrNoMessage, s)
	}
	return h, nil
}

// errNoAuthor: no member's ID ends with what a message ID names.
var errNoAuthor = errors.New("no member of this task has an ID ending in")

// authorOf finds the member whose peer ID is who, or ends with it.
func authorOf(p *peer.Peer, task peer.TaskID, who string) (libp2ppeer.ID, error) {
	if id, err := libp2ppeer.Decode(who); err == nil {
		return id, nil
	}
	t, err := p.Task(task)
	if err == nil && t.Root != t.ID {
		t, err = p.Task(t.Root) // a subtask's members are its root's
	}
	if err != nil {
		return "", err
	}
	var found []libp2ppeer.ID
	for _, m := range append(t.Members, p.ID()) {
		if strings.HasSuffix(m.String(), who) && (len(found) == 0 || found[0] != m) {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w %q", errNoAuthor, who)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%w: %q ends the IDs of %d members; give more of it", peer.ErrInvalid, who, len(found))
}
