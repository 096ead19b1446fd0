package peerstore

import (
	"reflect"
	"time"

	ic "github.com/libp2p/go-libp2p/core/crypto"
	cpb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/encoding/protowire"
)

// Writing pages: capture copies the state of some books of some peers
// under the books' locks (a handful of lock holds per batch of peers),
// then the pages are encoded with no lock held. The encoder writes the
// pb messages' wire form directly (pb/peerstore.proto is the reference;
// tests decode its output with the generated code), which keeps the
// journal's garbage, and so its cost to writers, low.

// captureGroup is how many peers are captured per hold of a book's lock.
const captureGroup = 256

// peerSnap is one peer's captured state. Everything but the addresses is
// immutable once stored (a change stores a new value), so it is shared.
type peerSnap struct {
	id     peer.ID
	books  books
	addrs  []addrCopy
	record *peerRecordState
	pubKey ic.PubKey
	protos map[protocol.ID]struct{}
	meta   map[string]any
	// lastConnected is when the peer last held a connection (Unix
	// nanoseconds on Options.Clock; 0: never), captured with the addresses.
	lastConnected int64
}

type addrCopy struct {
	addr   ma.Multiaddr
	ttl    time.Duration
	expiry time.Time
}

func (s *peerSnap) empty() bool {
	return len(s.addrs) == 0 && s.record == nil && s.pubKey == nil && len(s.protos) == 0 && len(s.meta) == 0
}

// capture returns the state of books bs[i] of peers ids[i].
func (pr *projection) capture(ids []peer.ID, bs []books) []peerSnap {
	snaps, _ := pr.captureInto(nil, nil, ids, bs)
	return snaps
}

// captureInto is capture appending to snaps, with the addresses copied
// into addrs (buffers reused from flush to flush).
func (pr *projection) captureInto(snaps []peerSnap, addrs []addrCopy, ids []peer.ID, bs []books) ([]peerSnap, []addrCopy) {
	for i, p := range ids {
		snaps = append(snaps, peerSnap{id: p, books: bs[i] & journaled})
	}
	for lo := 0; lo < len(snaps); lo += captureGroup {
		group := snaps[lo:min(lo+captureGroup, len(snaps))]
		addrs = pr.addrs.capture(group, addrs)
		pr.keys.capture(group)
		pr.protos.capture(group)
		pr.meta.capture(group)
		pr.t.fillDormant(group)
	}
	return snaps, addrs
}

func (ab *addrBook) capture(group []peerSnap, buf []addrCopy) []addrCopy {
	ab.mu.RLock()
	defer ab.mu.RUnlock()
	var now int64
	for i := range group {
		s := &group[i]
		if s.books&bookAddrs == 0 {
			continue
		}
		start := len(buf)
		live := ab.addrs.get(s.id)
		for _, a := range live {
			buf = append(buf, addrCopy{addr: a.Addr, ttl: a.TTL, expiry: a.Expiry})
			if a.IsConnected() {
				if now == 0 {
					now = ab.clock.Now().UnixNano()
				}
				s.lastConnected = now
			}
		}
		if len(live) == 0 {
			for _, a := range ab.dormant[s.id] {
				buf = append(buf, addrCopy{addr: a.Addr, ttl: a.TTL, expiry: a.Expiry})
			}
		}
		s.addrs = buf[start:len(buf):len(buf)]
		s.record = ab.records[s.id]
		if at, ok := ab.seen[s.id]; ok && s.lastConnected == 0 {
			s.lastConnected = at.UnixNano()
		}
	}
	return buf
}

func (kb *keyBook) capture(group []peerSnap) {
	kb.mu.RLock()
	defer kb.mu.RUnlock()
	for i := range group {
		if s := &group[i]; s.books&bookKey != 0 {
			s.pubKey = kb.pks[s.id]
		}
	}
}

func (pb *protoBook) capture(group []peerSnap) {
	for i := range group {
		if s := &group[i]; s.books&bookProtos != 0 {
			seg := pb.segment(s.id)
			seg.RLock()
			s.protos = seg.protocols[s.id]
			seg.RUnlock()
		}
	}
}

func (mb *metaBook) capture(group []peerSnap) {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	for i := range group {
		if s := &group[i]; s.books&bookMeta != 0 {
			s.meta = mb.ds[s.id]
		}
	}
}

// Field numbers of pb/peerstore.proto.
const (
	fPageVersion, fPageTime, fPagePeer, fPageCheckpoint, fPageChunk = 1, 2, 3, 4, 5
	fChunkPeers                                                     = 1
	fCheckpointPeers                                                = 1
	fPeerID, fPeerBooks, fPeerAddrs, fPeerRecord, fPeerPublicKey    = 1, 2, 3, 4, 5
	fPeerProtocols, fPeerMetadata, fPeerTTLs, fPeerExpSec           = 6, 7, 8, 9
	fPeerExpNanos, fPeerLastConnected                               = 10, 11
	fRecordEnvelope, fRecordSeq                                     = 1, 2
	fStringListValues                                               = 1
)

// encoder writes pages. It remembers the encoded form of the (shared,
// immutable) protocol sets and metadata maps it has seen, by address;
// each entry holds its map, so no other map can take that address while
// the encoder lives.
type encoder struct {
	protos  map[uintptr]encodedProtos
	meta    map[uintptr]encodedMeta
	content contentCache // equal sets and maps at other addresses (encodecache.go)
	scrat   []byte
}

type encodedProtos struct {
	m map[protocol.ID]struct{}
	b []byte
}

type encodedMeta struct {
	m map[string]any
	b []byte
}

func newEncoder() *encoder {
	return &encoder{protos: make(map[uintptr]encodedProtos), meta: make(map[uintptr]encodedMeta), content: newContentCache()}
}

// page returns a whole page: version, time, and the body in field.
func appendPageHeader(buf []byte, now int64) []byte {
	buf = protowire.AppendTag(buf, fPageVersion, protowire.VarintType)
	buf = protowire.AppendVarint(buf, formatVersion)
	buf = protowire.AppendTag(buf, fPageTime, protowire.VarintType)
	return protowire.AppendVarint(buf, uint64(now))
}

// peerPage returns the page restating s.
func (e *encoder) peerPage(s *peerSnap, now int64) []byte {
	return e.appendPeerPage(nil, s, now)
}

// appendPeerPage appends the page restating s.
func (e *encoder) appendPeerPage(buf []byte, s *peerSnap, now int64) []byte {
	e.scrat = e.appendPeer(e.scrat[:0], s)
	buf = appendPageHeader(buf, now)
	buf = protowire.AppendTag(buf, fPagePeer, protowire.BytesType)
	return protowire.AppendBytes(buf, e.scrat)
}

// checkpointPage returns the page that starts a checkpoint of n peers.
func checkpointPage(n int, now int64) []byte {
	var body []byte
	body = protowire.AppendTag(body, fCheckpointPeers, protowire.VarintType)
	body = protowire.AppendVarint(body, uint64(n))
	buf := appendPageHeader(nil, now)
	buf = protowire.AppendTag(buf, fPageCheckpoint, protowire.BytesType)
	return protowire.AppendBytes(buf, body)
}

// chunkPage returns a chunk page holding peers, each already encoded
// (appendPeer).
func chunkPage(peers [][]byte, now int64) []byte {
	size := 0
	for _, p := range peers {
		size += protowire.SizeTag(fChunkPeers) + protowire.SizeBytes(len(p))
	}
	buf := make([]byte, 0, size+32)
	buf = appendPageHeader(buf, now)
	buf = protowire.AppendTag(buf, fPageChunk, protowire.BytesType)
	buf = protowire.AppendVarint(buf, uint64(size))
	for _, p := range peers {
		buf = protowire.AppendTag(buf, fChunkPeers, protowire.BytesType)
		buf = protowire.AppendBytes(buf, p)
	}
	return buf
}

// appendPeer appends the fields of s's Peer message.
func (e *encoder) appendPeer(buf []byte, s *peerSnap) []byte {
	buf = protowire.AppendTag(buf, fPeerID, protowire.BytesType)
	buf = protowire.AppendBytes(buf, []byte(s.id))
	buf = protowire.AppendTag(buf, fPeerBooks, protowire.VarintType)
	buf = protowire.AppendVarint(buf, uint64(s.books))
	if len(s.addrs) > 0 {
		buf = appendAddrs(buf, s.addrs)
	}
	if s.record != nil {
		if env, err := s.record.Envelope.Marshal(); err == nil {
			var r []byte
			r = protowire.AppendTag(r, fRecordEnvelope, protowire.BytesType)
			r = protowire.AppendBytes(r, env)
			r = protowire.AppendTag(r, fRecordSeq, protowire.VarintType)
			r = protowire.AppendVarint(r, s.record.Seq)
			buf = protowire.AppendTag(buf, fPeerRecord, protowire.BytesType)
			buf = protowire.AppendBytes(buf, r)
		}
	}
	if s.pubKey != nil {
		if raw, err := s.pubKey.Raw(); err == nil {
			buf = protowire.AppendTag(buf, fPeerPublicKey, protowire.BytesType)
			buf = appendPublicKey(buf, s.pubKey.Type(), raw)
		}
	}
	if len(s.protos) > 0 {
		buf = protowire.AppendTag(buf, fPeerProtocols, protowire.BytesType)
		buf = protowire.AppendBytes(buf, e.protoBytes(s.protos))
	}
	if len(s.meta) > 0 {
		buf = protowire.AppendTag(buf, fPeerMetadata, protowire.BytesType)
		buf = protowire.AppendBytes(buf, e.metaBytes(s.meta))
	}
	if s.lastConnected != 0 {
		buf = protowire.AppendTag(buf, fPeerLastConnected, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(s.lastConnected))
	}
	return buf
}

// appendPublicKey appends, length-prefixed, the bytes
// ic.MarshalPublicKey returns (its crypto.pb PublicKey: Type = 1,
// Data = 2, both required), without the generated code's allocations.
func appendPublicKey(buf []byte, t cpb.KeyType, raw []byte) []byte {
	size := protowire.SizeTag(1) + protowire.SizeVarint(uint64(t)) + protowire.SizeTag(2) + protowire.SizeBytes(len(raw))
	buf = protowire.AppendVarint(buf, uint64(size))
	buf = protowire.AppendTag(buf, 1, protowire.VarintType)
	buf = protowire.AppendVarint(buf, uint64(t))
	buf = protowire.AppendTag(buf, 2, protowire.BytesType)
	return protowire.AppendBytes(buf, raw)
}

// appendAddrs appends the parallel address lists (the scalars packed).
func appendAddrs(buf []byte, addrs []addrCopy) []byte {
	for _, a := range addrs {
		buf = protowire.AppendTag(buf, fPeerAddrs, protowire.BytesType)
		buf = protowire.AppendBytes(buf, a.addr.Bytes())
	}
	packed := func(field protowire.Number, v func(a addrCopy) uint64) {
		n := 0
		for _, a := range addrs {
			n += protowire.SizeVarint(v(a))
		}
		buf = protowire.AppendTag(buf, field, protowire.BytesType)
		buf = protowire.AppendVarint(buf, uint64(n))
		for _, a := range addrs {
			buf = protowire.AppendVarint(buf, v(a))
		}
	}
	packed(fPeerTTLs, func(a addrCopy) uint64 { return uint64(a.ttl) })
	packed(fPeerExpSec, func(a addrCopy) uint64 { return uint64(a.expiry.Unix()) })
	packed(fPeerExpNanos, func(a addrCopy) uint64 { return uint64(int64(a.expiry.Nanosecond())) })
	return buf
}

// protoBytes returns a protocol set's encoded StringList, sorted.
func (e *encoder) protoBytes(m map[protocol.ID]struct{}) []byte {
	key := reflect.ValueOf(m).Pointer()
	if c, ok := e.protos[key]; ok {
		return c.b
	}
	h := e.content.protoHash(m)
	if b, ok := e.content.findProtos(h, m); ok {
		return b
	}
	b := encodeProtos(m)
	e.protos[key] = encodedProtos{m, b}
	e.content.protos[h] = append(e.content.protos[h], encodedProtos{m, b})
	return b
}

// metaBytes returns a metadata map's encoded MetaList, sorted by key.
func (e *encoder) metaBytes(m map[string]any) []byte {
	key := reflect.ValueOf(m).Pointer()
	if c, ok := e.meta[key]; ok {
		return c.b
	}
	h, hashed := e.content.metaHash(m)
	if hashed {
		if b, ok := e.content.findMeta(h, m); ok {
			return b
		}
	}
	b := encodeMeta(m)
	e.meta[key] = encodedMeta{m, b}
	if hashed {
		e.content.meta[h] = append(e.content.meta[h], encodedMeta{m, b})
	}
	return b
}

// encodeProtos returns the journal form of a protocol set (nil if
// empty): a StringList, sorted.
func encodeProtos(m map[protocol.ID]struct{}) []byte {
	if len(m) == 0 {
		return nil
	}
	return appendStringList(nil, sortedProtos(m))
}
