package wire

import (
	"errors"
	"fmt"
)

// Type ids of the messages on a hypercore channel, in registration order.
const (
	TypeSync      = 0
	TypeRequest   = 1
	TypeCancel    = 2
	TypeData      = 3
	TypeNoData    = 4
	TypeWant      = 5
	TypeUnwant    = 6
	TypeBitfield  = 7
	TypeRange     = 8
	TypeExtension = 9
)

// Reasons a NoData gives.
const (
	ReasonNotAvailable   = 1
	ReasonInvalidRequest = 2
)

// MaxNodes caps every node array a peer sends. A proof for a tree of 2^64
// leaves needs at most 64 path nodes, plus 64 roots per upgrade part.
const MaxNodes = 256

// MaxBitfieldWords caps a bitfield message (2^20 bits).
const MaxBitfieldWords = 1 << 15

var (
	// ErrUnknownType is returned for a type id this package does not know.
	ErrUnknownType = errors.New("wire: unknown message type")
	// ErrMalformed wraps every decoding failure.
	ErrMalformed = errors.New("wire: malformed message")
)

// Message is one hypercore channel message.
type Message interface {
	// Type is the message's type id on the channel.
	Type() uint64
	// Append appends the encoded message (without its type id).
	Append(dst []byte) []byte
}

// Node is one Merkle tree node as proofs carry it: flat-tree index, byte
// size of its span and BLAKE2b-256 hash.
type Node struct {
	Index uint64
	Size  uint64
	Hash  [32]byte
}

func (n Node) String() string { return fmt.Sprintf("node{%d size %d %x}", n.Index, n.Size, n.Hash[:4]) }
