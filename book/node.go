package book

import (
	"encoding/binary"
	"fmt"
)

// Node is one node of a book's Merkle tree: its flat-tree index, the byte
// size of the span it covers, and its hash.
type Node struct {
	Index uint64
	Size  uint64
	Hash  [32]byte
}

// nodeValueSize is the size of a stored node record: u64le size ‖ hash.
const nodeValueSize = 8 + HashSize

// appendNodeValue appends the stored form of n (the index lives in the key).
func appendNodeValue(dst []byte, n Node) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, n.Size)
	return append(dst, n.Hash[:]...)
}

// decodeNodeValue decodes a stored node record for node index.
func decodeNodeValue(index uint64, v []byte) (Node, error) {
	if len(v) != nodeValueSize {
		return Node{}, fmt.Errorf("%w: node %d: record is %d bytes, want %d", ErrCorrupt, index, len(v), nodeValueSize)
	}
	n := Node{Index: index, Size: binary.LittleEndian.Uint64(v)}
	copy(n.Hash[:], v[8:])
	if depth(index) == 0 && n.Size > maxPageSizeLimit {
		return Node{}, fmt.Errorf("%w: node %d: leaf size %d over the limit", ErrCorrupt, index, n.Size)
	}
	return n, nil
}

// leafNode returns the leaf node of page i holding data.
func leafNode(i uint64, data []byte) Node {
	return Node{Index: 2 * i, Size: uint64(len(data)), Hash: LeafHash(data)}
}

// String formats a node for logs and test failures.
func (n Node) String() string {
	return fmt.Sprintf("node(%d, size %d, %x)", n.Index, n.Size, n.Hash[:4])
}
