package secretstream

import (
	"context"
	"net"

	"github.com/folio-p2p/folio/hypercore/noise"
)

func handshakeOnly(c net.Conn) (*noise.Result, error) {
	return noise.Handshake(context.Background(), c, noise.Config{Initiator: true})
}
