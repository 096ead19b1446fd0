package peer

import "github.com/folio-p2p/folio/vault"

// ErrOffline: the peer was opened without the network
// (Options.Vault.Offline) and the operation needs it (Join). Everything
// else works offline: what is written leaves when the vault next runs
// online and meets the members.
var ErrOffline = vault.ErrOffline

// Offline reports whether the peer was opened without the network.
func (p *Peer) Offline() bool { return p.v.Offline() }
