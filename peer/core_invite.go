package peer

import (
	"fmt"

	"github.com/folio-p2p/folio/peer/pb"
)

// The core's steps for invites. The secrets, the expiry and the time come
// from the shell (randomness and clocks are not the core's); a newcomer's
// token is checked by the gate inside the handshake (gate.check), which
// marks the invite used at once, and the core hears of it as an
// introduction let in by an invite.

// invite is the step for making iv, an invite to task (a subtask's
// invite is its root's). The gate takes it at once, the journal next:
// the shell hands out the code only once the record is written.
func (c *core) invite(task TaskID, iv *invite) ([]effect, error) {
	id := c.rootOf(task)
	if c.roots[id] == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoTask, task)
	}
	iv.task = id
	c.invites[string(iv.secret)] = iv.id
	return []effect{{invite: iv}, {record: &pb.Record{Body: &pb.Record_Invite{Invite: &pb.InviteMade{
		Id: iv.id, Task: id[:], Secret: iv.secret, Expires: iv.expires,
	}}}}}, nil
}

// revoke is the step for revoking the invite with secret: unusable in the
// gate first, so that no handshake lets a newcomer in while the record
// is written.
func (c *core) revoke(secret []byte) ([]effect, error) {
	id, ok := c.invites[string(secret)]
	if !ok {
		return nil, fmt.Errorf("%w: not an invite of this peer", ErrBadCode)
	}
	return []effect{{revoked: id}, {record: &pb.Record{Body: &pb.Record_InviteRevoked{InviteRevoked: id}}}}, nil
}
