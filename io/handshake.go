package io

import (
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/blake2b"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/io/pb"
)

// HandshakeProtocol is the libp2p protocol of the handshake of book IDs.
const HandshakeProtocol = "/folio/handshake/1.0.0"

const (
	helloVersion = 1
	// maxBooks and maxIntros bound one Hello; larger ones are refused.
	maxBooks  = 1 << 16
	maxTopics = 1 << 12
	maxIntros = 1 << 10
	// MaxTokenSize and MaxMetaSize bound one introduction's fields.
	MaxTokenSize = 256
	MaxMetaSize  = 4 << 10
)

// Namespaces keep a proof made for one purpose from passing for another.
var (
	bookProofNS  = blake2b.Sum256([]byte("folio/handshake/book/v1"))
	topicProofNS = blake2b.Sum256([]byte("folio/handshake/topic/v1"))
)

// Introduction hands one book key to one authenticated peer.
type Introduction struct {
	Key   ed25519.PublicKey
	Token []byte // checked by the receiver's Accept; at most MaxTokenSize
	Meta  []byte // application data; at most MaxMetaSize
}

// SharedBook is a book both sides offered and proved they know.
type SharedBook struct {
	Key          ed25519.PublicKey
	DiscoveryKey [32]byte
}

// Handshake is the outcome of one handshake with a peer.
type Handshake struct {
	Remote    peer.ID
	Initiator bool // this side opened the handshake
	// Brief: introductions alone on a connection already handshaken
	// (IntroduceProtocol); Topics and Shared are not restated, so they
	// are empty, and the connection's last full handshake stands.
	Brief bool
	// Topics are the topics both sides have joined.
	Topics [][32]byte
	// Shared are the books both sides offered, sorted by discovery key.
	Shared []SharedBook
	// Introduced are the remote's introductions that Accept kept.
	Introduced []Introduction
	// Rejected are this side's introductions that the remote refused,
	// with its reasons (initiator only; the rest were kept).
	Rejected []Rejection
}

// Rejection is an introduction the remote refused.
type Rejection struct {
	Key    ed25519.PublicKey
	Reason string
}

// proof is BLAKE2b-256 keyed with secret over
// NS ‖ u16(len sender) ‖ sender ‖ u16(len receiver) ‖ receiver: it proves
// knowledge of secret to receiver only, and reveals nothing of it.
func proof(ns *[32]byte, secret []byte, sender, receiver peer.ID) []byte {
	h, _ := blake2b.New256(secret)
	h.Write(ns[:])
	for _, id := range []peer.ID{sender, receiver} {
		h.Write(binary.BigEndian.AppendUint16(nil, uint16(len(id))))
		h.Write([]byte(id))
	}
	return h.Sum(nil)
}

// offer is what one side puts into a handshake, before it is encoded.
type offer struct {
	books  []ed25519.PublicKey
	topics [][32]byte
	intros []Introduction
}

// buildHello encodes o as sent by local to remote.
func buildHello(local, remote peer.ID, o offer) *pb.Hello {
	h := &pb.Hello{Version: helloVersion}
	for _, k := range o.books {
		if len(k) != ed25519.PublicKeySize {
			continue
		}
		dk := book.DiscoveryKey(k)
		h.Books = append(h.Books, &pb.Book{DiscoveryKey: dk[:], Proof: proof(&bookProofNS, k, local, remote)})
	}
	for _, t := range o.topics {
		h.Topics = append(h.Topics, proof(&topicProofNS, t[:], local, remote))
	}
	for _, in := range o.intros {
		h.Introductions = append(h.Introductions, &pb.Introduction{Key: in.Key, Token: in.Token, Meta: in.Meta})
	}
	return h
}

// checkHello rejects a Hello that is not version 1 or exceeds the limits.
// Entries that are merely malformed are dropped later, one by one.
func checkHello(h *pb.Hello) error {
	switch {
	case h.Version != helloVersion:
		return fmt.Errorf("%w: version %d", ErrHandshake, h.Version)
	case len(h.Books) > maxBooks:
		return fmt.Errorf("%w: %d books (max %d)", ErrHandshake, len(h.Books), maxBooks)
	case len(h.Topics) > maxTopics:
		return fmt.Errorf("%w: %d topics (max %d)", ErrHandshake, len(h.Topics), maxTopics)
	case len(h.Introductions) > maxIntros || len(h.Rejections) > maxIntros:
		return fmt.Errorf("%w: %d introductions (max %d)", ErrHandshake, len(h.Introductions), maxIntros)
	}
	return nil
}

// readHello is the deterministic core of the handshake: what local, which
// offered o, learns from the remote's Hello h. Books count only when
// local offered them too and the remote's proof is right; topics only when
// local joined them; introductions only when well formed and accepted.
// Nothing of h is ever sent back.
func readHello(local, remote peer.ID, o offer, h *pb.Hello, accept func(peer.ID, Introduction) error) (Handshake, []*pb.Rejection) {
	r := Handshake{Remote: remote}
	if len(h.Books) > 0 && len(o.books) > 0 {
		mine := make(map[[32]byte]ed25519.PublicKey, len(o.books))
		for _, k := range o.books {
			if len(k) == ed25519.PublicKeySize {
				mine[book.DiscoveryKey(k)] = k
			}
		}
		seen := make(map[[32]byte]bool)
		for _, b := range h.Books {
			if b == nil || len(b.DiscoveryKey) != 32 || len(b.Proof) != 32 {
				continue
			}
			dk := [32]byte(b.DiscoveryKey)
			k, ok := mine[dk]
			if !ok || seen[dk] {
				continue
			}
			if subtle.ConstantTimeCompare(proof(&bookProofNS, k, remote, local), b.Proof) != 1 {
				continue
			}
			seen[dk] = true
			r.Shared = append(r.Shared, SharedBook{Key: k, DiscoveryKey: dk})
		}
		sort.Slice(r.Shared, func(i, j int) bool {
			return string(r.Shared[i].DiscoveryKey[:]) < string(r.Shared[j].DiscoveryKey[:])
		})
	}
	if len(h.Topics) > 0 && len(o.topics) > 0 {
		theirs := make(map[string]bool, len(h.Topics))
		for _, t := range h.Topics {
			theirs[string(t)] = true
		}
		for _, t := range o.topics {
			if theirs[string(proof(&topicProofNS, t[:], remote, local))] {
				r.Topics = append(r.Topics, t)
			}
		}
	}
	var rejected []*pb.Rejection
	for n, in := range h.Introductions {
		if in == nil || len(in.Key) != ed25519.PublicKeySize || len(in.Token) > MaxTokenSize || len(in.Meta) > MaxMetaSize {
			rejected = append(rejected, &pb.Rejection{Index: uint32(n), Reason: "malformed introduction"})
			continue
		}
		i := Introduction{Key: ed25519.PublicKey(in.Key), Token: in.Token, Meta: in.Meta}
		if err := accept(remote, i); err != nil {
			reason := err.Error()
			if len(reason) > maxReason {
				reason = reason[:maxReason]
			}
			// A proto3 string must be UTF-8, or the whole answer fails to
			// encode: drop invalid bytes and a rune cut in half above.
			reason = strings.ToValidUTF8(reason, "")
			rejected = append(rejected, &pb.Rejection{Index: uint32(n), Reason: reason})
			continue
		}
		r.Introduced = append(r.Introduced, i)
	}
	return r, rejected
}

// maxReason bounds a rejection's reason.
const maxReason = 256

// rejections maps the remote's answers onto the introductions we sent.
func rejections(sent []Introduction, h *pb.Hello) []Rejection {
	var out []Rejection
	for _, rj := range h.Rejections {
		if int(rj.Index) < len(sent) && len(rj.Reason) <= maxReason {
			out = append(out, Rejection{Key: sent[rj.Index].Key, Reason: rj.Reason})
		}
	}
	return out
}
