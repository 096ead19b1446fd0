package book

import "fmt"

// Node returns tree node i as the snapshot stores it: a leaf from its page
// record (or from a node record when only its hash is kept), a parent from
// its node record. A node outside the snapshot's tree, or not stored here
// (a sparse reader's gap), gives an error matching ErrNotFound. Inspectors
// use it to tell stored nodes from missing ones.
func (s *Snapshot) Node(i uint64) (Node, error) {
	if !within(i, s.st.head.Length) {
		return Node{}, fmt.Errorf("book %s: tree node %d: %w: outside the tree of length %d", s.b.name, i, ErrNotFound, s.st.head.Length)
	}
	n, err := getNode(s.snap, s.b.keys, i)
	if err != nil {
		return Node{}, fmt.Errorf("book %s: %w", s.b.name, err)
	}
	return n, nil
}
