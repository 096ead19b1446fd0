package peerstore_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/db/peerstore"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "folio-peerstore-example")
	defer os.RemoveAll(dir)

	d, _ := db.Open(dir, nil)
	ps, _ := peerstore.Open(ctx, d, nil) // libp2p.New(libp2p.Peerstore(ps), …) takes it as is
	p := peer.ID("a peer")
	ps.AddAddr(p, ma.StringCast("/ip4/192.0.2.1/tcp/4001"), time.Hour)
	ps.SetPeer(peerstore.PeerData{ID: p, Protocols: []protocol.ID{"/ipfs/id/1.0.0"},
		Metadata: map[string]any{"AgentVersion": "example/1.0"}}, peerstore.BookProtocols|peerstore.BookMetadata)
	ps.Close() // flushes the journal (a host's Close closes its peerstore too)

	ps, _ = peerstore.Open(ctx, d, nil) // folds the journal back
	data, _ := ps.GetPeer(p, 0)
	fmt.Println(data.Addrs[0].Addr, data.Protocols, data.Metadata["AgentVersion"])
	ps.Close()
	d.Close()
	// Output: /ip4/192.0.2.1/tcp/4001 [/ipfs/id/1.0.0] example/1.0
}
