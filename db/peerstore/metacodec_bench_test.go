package peerstore

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/protocol"
)

// BenchmarkMetaCodec: this package's metadata codec against the generated
// code (the reference), on what identify stores for a peer.
func BenchmarkMetaCodec(b *testing.B) {
	m := map[string]any{"AgentVersion": "go-libp2p/0.47.0", "ProtocolVersion": "ipfs/0.1.0",
		"latency": int64(1234567), "protocols": map[protocol.ID]struct{}{"/ipfs/id/1.0.0": {}, "/ipfs/ping/1.0.0": {}, "/meshsub/1.1.0": {}}}
	data := encodeMeta(m)
	b.Run("encode/hand", func(b *testing.B) {
		for range b.N {
			encodeMeta(m)
		}
	})
	b.Run("encode/generated", func(b *testing.B) {
		for range b.N {
			refEncodeMeta(m)
		}
	})
	b.Run("decode/hand", func(b *testing.B) {
		for range b.N {
			if _, err := parseMeta(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/generated", func(b *testing.B) {
		for range b.N {
			if _, err := refDecodeMeta(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
