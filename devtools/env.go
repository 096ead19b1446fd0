package devtools

import (
	"time"

	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/db/peerstore"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// Env is what the inspector looks at: a vault opened read-only from its
// directory (Vault and Peer nil), or the live peer of a running daemon
// (everything set; the daemon runs the inspector in its own process and
// streams the output back through the local API).
type Env struct {
	// Dir is the vault directory.
	Dir string
	// DB is the vault's DB (read-only when opened from the directory).
	DB *db.DB
	// Peerstore is the live peerstore, or nil when read-only.
	Peerstore *peerstore.Peerstore
	// Vault and Peer are the live peer, or nil when read-only.
	Vault *vault.Vault
	Peer  *peer.Peer
	// Events subscribes to the live peer's events (handshakes, sessions,
	// verification failures); nil when read-only. cancel ends the
	// subscription and closes the channel.
	Events func() (events <-chan Event, cancel func())
}

// Event is one thing that happened in a live peer, for `watch`.
type Event struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"` // "append", "handshake", "session-start", "session-end", "peer-error", "disconnect"
	Peer   string    `json:"peer,omitempty"`
	Book   string    `json:"book,omitempty"` // hex key
	Detail string    `json:"detail,omitempty"`
}
