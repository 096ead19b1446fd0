package peerstore

import (
	"hash/maphash"
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"
)

// The encoder's content cache. The books share a protocol set or metadata
// map between peers only after a fold; live, identify gives every peer
// its own, though most hold the same ("/ipfs/id/1.0.0", …; the same
// agent). So a flush of many peers (Close with a backlog, a checkpoint)
// would encode the same list again for each. The encoder finds an equal
// one already encoded by an order-independent hash of the content, and
// compares before it reuses the bytes.

type contentCache struct {
	seed   maphash.Seed
	protos map[uint64][]encodedProtos
	meta   map[uint64][]encodedMeta
}

func newContentCache() contentCache {
	return contentCache{seed: maphash.MakeSeed(), protos: make(map[uint64][]encodedProtos), meta: make(map[uint64][]encodedMeta)}
}

func (c *contentCache) protoHash(m map[protocol.ID]struct{}) uint64 {
	h := uint64(len(m))
	for p := range m {
		h += maphash.String(c.seed, string(p))
	}
	return h
}

// findProtos returns the encoding of a set equal to m, if one was made.
func (c *contentCache) findProtos(h uint64, m map[protocol.ID]struct{}) ([]byte, bool) {
	for _, e := range c.protos[h] {
		if sameProtos(e.m, m) {
			return e.b, true
		}
	}
	return nil, false
}

// metaHash hashes m's content; ok is false when a value's type is not
// hashed here (then m is not looked up by content).
func (c *contentCache) metaHash(m map[string]any) (h uint64, ok bool) {
	h = uint64(len(m))
	for k, v := range m {
		vh, ok := c.valueHash(v)
		if !ok {
			return 0, false
		}
		h += maphash.String(c.seed, k)*31 ^ vh
	}
	return h, true
}

func (c *contentCache) valueHash(v any) (uint64, bool) {
	switch x := v.(type) {
	case string:
		return maphash.String(c.seed, x), true
	case []byte:
		return maphash.Bytes(c.seed, x) ^ 1, true
	case bool:
		if x {
			return 2, true
		}
		return 3, true
	case int:
		return uint64(x) * 5, true
	case int64:
		return uint64(x) * 7, true
	case uint64:
		return x * 11, true
	case float64:
		return math.Float64bits(x) * 13, true
	case time.Duration:
		return uint64(x) * 17, true
	case nil:
		return 19, true
	}
	return 0, false
}

// findMeta returns the encoding of a map equal to m, if one was made.
func (c *contentCache) findMeta(h uint64, m map[string]any) ([]byte, bool) {
	for _, e := range c.meta[h] {
		if sameMeta(e.m, m) {
			return e.b, true
		}
	}
	return nil, false
}

func sameMeta(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !sameValue(v, w) {
			return false
		}
	}
	return true
}
