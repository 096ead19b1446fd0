package io

import (
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
)

// The security transports a host can speak on TCP (QUIC always brings its
// own TLS 1.3).
const (
	SecurityNoise = protocol.ID(noise.ID) // Noise XX over X25519 (libp2p's /noise)
	SecurityTLS   = protocol.ID(tls.ID)   // TLS 1.3 (libp2p's /tls/1.0.0)
)

// DefaultSecurity returns the default of HostOptions.Security (a new slice
// each call: no package state to change by accident): TLS first, then
// Noise, as go-libp2p's own default. Noise first was measured and
// rejected: a Noise connection costs more CPU here than a TLS one
// (BenchmarkConnectSecurity: about 3.5 ms against 2.9 ms for both sides,
// identify included), as go-libp2p's Noise does each X25519 through
// x/crypto's wrapper, which also derives a public key per call, and XX
// makes three of them a side. Any host that speaks one of the two
// connects: multistream-select takes the dialer's first choice that the
// listener speaks.
func DefaultSecurity() []protocol.ID { return []protocol.ID{SecurityTLS, SecurityNoise} }

// securityOptions turns ids (nil: DefaultSecurity()) into libp2p options,
// the preferred first. Unknown or repeated ids are ErrSecurity.
func securityOptions(ids []protocol.ID) ([]libp2p.Option, error) {
	if ids == nil {
		ids = DefaultSecurity()
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrSecurity)
	}
	var opts []libp2p.Option
	seen := map[protocol.ID]bool{}
	for _, id := range ids {
		if seen[id] {
			return nil, fmt.Errorf("%w: %q given twice", ErrSecurity, id)
		}
		seen[id] = true
		switch id {
		case SecurityNoise:
			opts = append(opts, libp2p.Security(noise.ID, noise.New))
		case SecurityTLS:
			opts = append(opts, libp2p.Security(tls.ID, tls.New))
		default:
			return nil, fmt.Errorf("%w: unknown %q (want %q or %q)", ErrSecurity, id, SecurityNoise, SecurityTLS)
		}
	}
	return opts, nil
}
