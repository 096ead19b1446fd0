package vault

import "errors"

var (
	// ErrLocked: another process has the vault open.
	ErrLocked = errors.New("vault: in use by another process")
	// ErrKeyPermissions: the identity key file is readable by others.
	ErrKeyPermissions = errors.New("vault: identity key file is readable by others")
	// ErrOffline: the vault was opened with Options.Offline and the
	// operation needs the network.
	ErrOffline = errors.New("vault: offline (opened without the network)")
	// ErrClosed: the vault is closed.
	ErrClosed = errors.New("vault: closed")
)
