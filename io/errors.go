package io

import "errors"

var (
	// ErrClosed: the Swarm is closed.
	ErrClosed = errors.New("io: swarm closed")
	// ErrRefused: the remote refused the handshake (its firewall or peer
	// limit), or ours refused the remote.
	ErrRefused = errors.New("io: refused")
	// ErrHandshake: the remote's handshake message was malformed, too
	// large, of another version, or late.
	ErrHandshake = errors.New("io: bad handshake")
	// ErrFirewall: the firewall refused the peer.
	ErrFirewall = errors.New("io: firewall refused peer")
	// ErrPeerLimit: MaxPeers peers are already handshaken.
	ErrPeerLimit = errors.New("io: peer limit reached")
	// ErrTopic: a topic is not 32 bytes, or is not joined.
	ErrTopic = errors.New("io: bad topic")
	// ErrSecurity: HostOptions.Security names no transport, an unknown
	// one, or one twice.
	ErrSecurity = errors.New("io: bad security transports")
)
