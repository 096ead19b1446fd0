package peer

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/blake2b"
	"google.golang.org/protobuf/proto"

	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/peer/pb"
)

// An invite code is "folio1-" followed by lower-case base32 (no padding)
// of a protobuf Invite and a 4-byte BLAKE2b checksum of it: one line to
// copy and paste, and a typo gives ErrBadCode rather than a wrong peer.
const codePrefix = "folio1-"

var (
	b32      = base32.StdEncoding.WithPadding(base32.NoPadding)
	inviteNS = blake2b.Sum256([]byte("folio/peer/invite/v1"))
)

// EncodeInvite makes the code of an invite.
func EncodeInvite(in *pb.Invite) (string, error) {
	b, err := proto.Marshal(in)
	if err != nil {
		return "", err
	}
	sum := blake2b.Sum256(b)
	return codePrefix + strings.ToLower(b32.EncodeToString(append(b, sum[:4]...))), nil
}

// DecodeInvite parses a code made by EncodeInvite.
func DecodeInvite(code string) (*pb.Invite, error) {
	code = strings.TrimSpace(code)
	if !strings.HasPrefix(strings.ToLower(code), codePrefix) {
		return nil, fmt.Errorf("%w: it should start with %q", ErrBadCode, codePrefix)
	}
	raw, err := b32.DecodeString(strings.ToUpper(code[len(codePrefix):]))
	if err != nil || len(raw) < 5 {
		return nil, fmt.Errorf("%w: not base32 (a character was mistyped or cut off)", ErrBadCode)
	}
	body, sum := raw[:len(raw)-4], raw[len(raw)-4:]
	want := blake2b.Sum256(body)
	if subtle.ConstantTimeCompare(want[:4], sum) != 1 {
		return nil, fmt.Errorf("%w: checksum mismatch (a character was mistyped)", ErrBadCode)
	}
	var in pb.Invite
	if err := proto.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCode, err)
	}
	if _, err := peer.IDFromBytes(in.Inviter); err != nil {
		return nil, fmt.Errorf("%w: inviter: %v", ErrBadCode, err)
	}
	if _, ok := taskOf(in.Task); !ok || len(in.Secret) != 16 {
		return nil, fmt.Errorf("%w: malformed task or secret", ErrBadCode)
	}
	return &in, nil
}

// inviteToken proves to the inviter that joiner holds the invite's
// secret, without sending the secret.
func inviteToken(secret []byte, joiner, inviter peer.ID) []byte {
	h, _ := blake2b.New256(secret)
	h.Write(inviteNS[:])
	for _, id := range []peer.ID{joiner, inviter} {
		h.Write(binary.BigEndian.AppendUint16(nil, uint16(len(id))))
		h.Write([]byte(id))
	}
	return h.Sum(nil)
}

// Invite makes a one-use invite code for a task (its root task): the
// inviter's peer ID and dial addresses, the task ID and a random secret.
// The code is returned once the invite is in the journal.
func (p *Peer) Invite(ctx context.Context, task TaskID) (string, error) {
	iv := &invite{id: make([]byte, 8), secret: make([]byte, 16), expires: p.o.Now().Add(p.o.InviteTTL).UnixMilli()}
	rand.Read(iv.id)
	rand.Read(iv.secret)
	if err := p.step(ctx, func() ([]effect, error) { return p.invite(task, iv) }); err != nil {
		return "", err
	}
	return EncodeInvite(&pb.Invite{Inviter: []byte(p.me), Task: iv.task[:], Addrs: encodeAddrs(p.v.Addrs()), Secret: iv.secret})
}

// RevokeInvite makes a code unusable.
func (p *Peer) RevokeInvite(ctx context.Context, code string) error {
	in, err := DecodeInvite(code)
	if err != nil {
		return err
	}
	return p.step(ctx, func() ([]effect, error) { return p.revoke(in.Secret) })
}

// step runs a core step under Peer.mu, carries out its effects and
// waits until the journal records they queued are written.
func (p *Peer) step(ctx context.Context, f func() ([]effect, error)) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	effs, err := f()
	if err == nil {
		p.run(ctx, effs)
	}
	p.mu.Unlock()
	if err != nil {
		return err
	}
	return p.flushJournal(ctx)
}

// Join uses an invite code: it dials the inviter, writes this peer's book
// for the inviter, introduces it with proof of the secret (trying again,
// at most Options.JoinAttempts times, when the inviter cannot be reached:
// then the error wraps ErrUnreachable), and waits until the inviter's book
// for this peer arrives. It returns the task.
func (p *Peer) Join(ctx context.Context, code string) (TaskID, error) {
	in, err := DecodeInvite(code)
	if err != nil {
		return TaskID{}, err
	}
	inviter, _ := peer.IDFromBytes(in.Inviter)
	task, _ := taskOf(in.Task)
	if inviter == p.me {
		return TaskID{}, fmt.Errorf("%w: this is your own invite", ErrInvalid)
	}
	if p.Offline() {
		return TaskID{}, fmt.Errorf("peer: join: %w", ErrOffline)
	}
	addrs := decodeAddrs(in.Addrs)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return TaskID{}, ErrClosed
	}
	m, effs := p.joining(task, inviter, addrs)
	r := p.roots[task]
	p.run(ctx, effs)
	p.mu.Unlock()
	// The inviter is recorded before we dial it.
	if err := p.flushJournal(ctx); err != nil {
		return TaskID{}, err
	}
	// Connected already (another task with the inviter): no Connect,
	// which would handshake again, offering every shared book.
	if !p.connected(inviter) {
		if err := p.v.Connect(peer.AddrInfo{ID: inviter, Addrs: addrs}); err != nil {
			return TaskID{}, fmt.Errorf("peer: join: dial inviter: %w", err)
		}
	}
	b, err := p.ensureMyBook(ctx, task, inviter)
	if err != nil {
		return TaskID{}, err
	}
	meta, _ := proto.Marshal(&pb.IntroMeta{Task: task[:], Members: []*pb.Join{{PeerId: []byte(p.me), Addrs: encodeAddrs(p.v.Addrs())}}})
	// Marked as being introduced: the inviter's welcome can arrive before
	// reachInviter returns, and must not make us introduce our book again.
	p.mu.Lock()
	p.introducing(m)
	p.mu.Unlock()
	err = p.reachInviter(ctx, inviter, folioio.Introduction{Key: b.Key(), Token: inviteToken(in.Secret, p.me, inviter), Meta: meta})
	p.mu.Lock()
	p.introduceDone(m, err == nil)
	p.mu.Unlock()
	p.kickRetry()
	if err != nil {
		return TaskID{}, err
	}
	// The inviter introduces its own book for us next; the task is known
	// once the introduction names it. Then we wait a little more (at most
	// Options.JoinHistoryWait) for the inviter's first pages to be read, so that our
	// first message's clock comes after the inviter's history (else a
	// rename right after joining can lose to the task's creation); but
	// the pages' replication is not ours to wait for without bound.
	if err := p.awaitInviter(ctx, r, task, m); err != nil {
		return TaskID{}, err
	}
	p.pokeTask(task)
	return task, nil
}

// welcome runs at the inviter once a newcomer's invite checked out: it
// writes the inviter's book for the newcomer (with the task's history),
// announces the newcomer to the task and introduces the book.
func (p *Peer) welcome(task TaskID, newcomer peer.ID) {
	ctx := p.ctx
	if _, err := p.ensureMyBook(ctx, task, newcomer); err != nil {
		return
	}
	p.mu.Lock()
	var addrs [][]byte
	if m := p.roots[task].members[newcomer]; m != nil {
		addrs = encodeAddrs(m.addrs)
	}
	p.mu.Unlock()
	data, _ := proto.Marshal(&pb.Join{PeerId: []byte(newcomer), Addrs: addrs, Inviter: []byte(p.me)})
	if _, err := p.send(ctx, task, pb.Type_TYPE_JOIN, data, nil); err != nil {
		return
	}
	p.mu.Lock()
	r := p.roots[task]
	if m := r.members[newcomer]; m != nil {
		p.introduceLocked(r, m)
	}
	p.mu.Unlock()
}
