package peer

import (
	"crypto/ed25519"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// replay is the core's step for one journal record read on Open: the
// tasks this peer created, its invites, the members and their books, the
// read markers and the messages written while alone. After the records,
// the shell reads every log again from its start (ingest, settle): a
// restart rebuilds the state from what the core had asked to be written.
func (c *core) replay(rec *pb.Record) []effect {
	switch b := rec.Body.(type) {
	case *pb.Record_Task:
		if id, ok := taskOf(b.Task.Task); ok {
			c.rootFor(id)
		}
	case *pb.Record_Invite:
		id, _ := taskOf(b.Invite.Task)
		c.invites[string(b.Invite.Secret)] = b.Invite.Id
		return []effect{{invite: &invite{id: b.Invite.Id, secret: b.Invite.Secret, task: id, expires: b.Invite.Expires}}}
	case *pb.Record_InviteUsed:
		return []effect{{used: b.InviteUsed}}
	case *pb.Record_InviteRevoked:
		return []effect{{revoked: b.InviteRevoked}}
	case *pb.Record_Member:
		return c.replayMember(b.Member)
	case *pb.Record_Read:
		if id, ok := taskOf(b.Read.Task); ok {
			r := c.rootFor(c.rootOf(id))
			a, _ := peer.IDFromBytes(b.Read.Author)
			r.read = cursorKey{Clock: b.Read.Clock, Author: a, Index: b.Read.Index}
		}
	case *pb.Record_Outbox:
		if id, ok := taskOf(b.Outbox.GetMeta().GetTask()); ok {
			r := c.rootFor(c.rootOf(id))
			if page, err := proto.Marshal(b.Outbox); err == nil {
				r.outbox = append(r.outbox, page)
			}
		}
	}
	return nil
}

// replayMember folds a member record: the latest book and addresses win.
// The shell opens our book for the member (reopen), if one was made.
func (c *core) replayMember(rm *pb.Member) []effect {
	id, ok := taskOf(rm.Task)
	pid, err := peer.IDFromBytes(rm.PeerId)
	if !ok || err != nil || pid == c.me {
		return nil
	}
	r := c.rootFor(id)
	var out []effect
	m := r.members[pid]
	if m == nil {
		m = c.newMember(r, pid)
		out = append(out, effect{task: id, admit: pid})
	}
	if len(rm.Book) == ed25519.PublicKeySize {
		out = append(out, effect{share: &offered{remote: pid, key: ed25519.PublicKey(rm.Book), old: m.book}})
		m.book = ed25519.PublicKey(rm.Book)
	}
	if addrs := decodeAddrs(rm.Addrs); len(addrs) > 0 {
		m.addrs = addrs
	}
	if r.myBooks[pid] == nil && !m.restored {
		out = append(out, effect{task: id, reopen: pid})
	}
	return out
}
