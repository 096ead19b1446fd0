package peer

import (
	"time"

	"github.com/folio-p2p/folio/vault"
)

// Options configures a Peer. Nil and zero fields mean the documented
// defaults.
type Options struct {
	// Vault configures the vault underneath; its Accept is the
	// messenger's own and is overwritten. Default: vault's defaults.
	Vault *vault.Options
	// InviteTTL is how long an invite stays valid. Default 7 days.
	InviteTTL time.Duration
	// Now is the wall clock (message times, invite expiry). Default
	// time.Now.
	Now func() time.Time
	// Retry is how often introductions that a member has not accepted yet
	// are tried again. Default 2 s.
	Retry time.Duration
	// AwaitGrace is how long a peer waits for a member that an
	// introducer named (a newcomer learning who was there before it) to
	// introduce itself, before dialing it: the member reads the join
	// message naming us and dials; if we dialed too, the pair would open
	// two connections. Default 5 × Retry (never less than Retry).
	AwaitGrace time.Duration
	// JoinHistoryWait bounds how long Join, once the task is known, waits
	// for the inviter's first pages to be read (so that the newcomer's
	// first message comes after the task's history); past it Join
	// returns and the pages arrive later. Default 5 × Retry.
	JoinHistoryWait time.Duration
	// JoinAttempts bounds the attempts Join makes to hand its book to the
	// inviter (dial and handshake); between them it waits Retry, then
	// twice as long each time up to 8 × Retry. Default 5 (with Retry 2 s,
	// 30 s of waits beside the attempts, each bounded by the swarm's
	// handshake timeout).
	JoinAttempts int
	// MaxLag is how many messages a subscriber may leave unread, beyond
	// those already in its queue, before its subscription ends with
	// ErrLagged (it resumes with SubscribeAfter). Default 1024.
	MaxLag int
	// IdempotencyWindow is how many of this peer's latest messages in a
	// task an idempotency key is honoured for (Draft.Key): a retry that
	// comes later is a new message. Default 1000.
	IdempotencyWindow int
}

func (o *Options) withDefaults() Options {
	r := Options{}
	if o != nil {
		r = *o
	}
	if r.InviteTTL <= 0 {
		r.InviteTTL = 7 * 24 * time.Hour
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Retry <= 0 {
		r.Retry = 2 * time.Second
	}
	switch {
	case r.AwaitGrace <= 0:
		r.AwaitGrace = 5 * r.Retry
	case r.AwaitGrace < r.Retry:
		r.AwaitGrace = r.Retry
	}
	if r.JoinHistoryWait <= 0 {
		r.JoinHistoryWait = 5 * r.Retry
	}
	if r.JoinAttempts <= 0 {
		r.JoinAttempts = 5
	}
	if r.MaxLag <= 0 {
		r.MaxLag = 1024
	}
	if r.IdempotencyWindow <= 0 {
		r.IdempotencyWindow = 1000
	}
	return r
}
