package peer

import (
	"crypto/ed25519"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// gate is what a handshake may read of the messenger: who may introduce
// a book for which task (its members, and those an accepted introducer
// named), the invites a newcomer's token is checked against, and the
// books offered to each peer. io calls Accept and Offer inside a
// handshake, on its own goroutines; they read (and, for an invite, mark)
// the gate under its own lock, held for map operations only and never
// with any other lock taken inside it. So a handshake never waits on
// Peer.mu, on the shell or on a write, however busy the messenger is.
// The shell keeps the gate in step with the messenger's state: it may
// take the gate's lock while holding Peer.mu, never the other way round.
type gate struct {
	mu      sync.Mutex
	me      peer.ID // set with ready
	ready   bool    // the journal has been replayed
	invites map[string]*invite
	members map[TaskID]map[peer.ID]bool
	// offers: per remote, the pair books of every task it shares with us
	// (ours for it, its for us), so that Offer is O(books shared with
	// that remote), not O(tasks).
	offers map[peer.ID]map[string]ed25519.PublicKey
}

type invite struct {
	id, secret []byte
	task       TaskID
	expires    int64
	used       bool
	revoked    bool
}

func newGate() *gate {
	return &gate{invites: map[string]*invite{}, members: map[TaskID]map[peer.ID]bool{}, offers: map[peer.ID]map[string]ed25519.PublicKey{}}
}

// open lets handshakes in, once the state they are checked against is
// loaded.
func (g *gate) open(me peer.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.me, g.ready = me, true
}

// shut refuses every handshake's introduction from now on (Close).
func (g *gate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ready = false
}

// admit records id as a member of task (one who may introduce its book).
func (g *gate) admit(task TaskID, id peer.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.admitLocked(task, id)
}

func (g *gate) admitLocked(task TaskID, id peer.ID) {
	ms := g.members[task]
	if ms == nil {
		ms = map[peer.ID]bool{}
		g.members[task] = ms
	}
	ms[id] = true
}

// share adds key to what remote is offered, and drops old (a book
// replaced by another; nil: none).
func (g *gate) share(remote peer.ID, key, old ed25519.PublicKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ks := g.offers[remote]
	if ks == nil {
		ks = map[string]ed25519.PublicKey{}
		g.offers[remote] = ks
	}
	if old != nil && !old.Equal(key) {
		delete(ks, string(old))
	}
	ks[string(key)] = key
}

// offer is the books to offer remote: none to a peer that shares no task.
func (g *gate) offer(remote peer.ID) []ed25519.PublicKey {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]ed25519.PublicKey, 0, len(g.offers[remote]))
	for _, k := range g.offers[remote] {
		out = append(out, k)
	}
	return out
}

// addInvite keeps an invite made here (or replayed from the journal).
func (g *gate) addInvite(iv *invite) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.invites[string(iv.id)] = iv
}

// mark sets an invite used or revoked (replayed from the journal).
func (g *gate) mark(id []byte, used, revoked bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if iv := g.invites[string(id)]; iv != nil {
		iv.used = iv.used || used
		iv.revoked = iv.revoked || revoked
	}
}

// check decides on an introduction of a book for task by remote: with a
// token, the invite it proves is marked used (at once, so that two
// newcomers racing with one code cannot both get in) and its ID
// returned; without, remote must be a member. Either way the peers the
// introducer names become members (they may introduce themselves next),
// as the shell will record when it handles the introduction.
func (g *gate) check(remote peer.ID, task TaskID, token []byte, named []peer.ID, now time.Time) (used []byte, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.ready {
		return nil, errNotReady
	}
	if len(token) > 0 {
		iv, err := g.inviteLocked(remote, task, token, now)
		switch {
		case errors.Is(err, errInviteUsed) && g.members[task][remote]:
			// Join trying again after its first attempt got in but
			// lost the answer (a timeout): the token names remote, so
			// only the newcomer could send it, and it is a member now.
		case err != nil:
			return nil, err
		default:
			iv.used = true
			used = iv.id
			g.admitLocked(task, remote)
		}
	} else if !g.members[task][remote] {
		return nil, errNotMember
	}
	for _, id := range named {
		if id != g.me {
			g.admitLocked(task, id)
		}
	}
	return used, nil
}

// inviteLocked finds the invite for task whose secret token proves.
func (g *gate) inviteLocked(joiner peer.ID, task TaskID, token []byte, now time.Time) (*invite, error) {
	for _, iv := range g.invites {
		if iv.task != task || subtle.ConstantTimeCompare(inviteToken(iv.secret, joiner, g.me), token) != 1 {
			continue
		}
		switch {
		case iv.revoked:
			return nil, errInviteRevoked
		case iv.used:
			return nil, errInviteUsed
		case now.UnixMilli() > iv.expires:
			return nil, errInviteExpired
		}
		return iv, nil
	}
	return nil, errNoInvite
}
