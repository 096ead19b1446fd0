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
	return r
}
