package db

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/folio-p2p/folio/book"
)

// Info is what the catalogue knows of a book.
type Info struct {
	Pointer      uint32            // key prefix inside the DB
	Key          ed25519.PublicKey // the book key
	DiscoveryKey [32]byte          // the key peers find each other by
	Writable     bool              // this DB holds (can derive) the secret key
	Name         string            // for writable books: the name it derives from
}

// Catalogue record (little endian), version 1:
//
//	[0]    version = 1
//	[1]    flags: bit 0 writable
//	[2:6]  pointer
//	[6:]   name (UTF-8, writable books only)
//
// The secret key is never stored: a writable book's keypair is derived
// again from the primary key and the name each time it opens.
const (
	catVersion    = 1
	catFlagWrite  = 1
	catFixedSize  = 6
	maxNameLength = 1024
)

func encodeInfo(in *Info) []byte {
	b := make([]byte, catFixedSize, catFixedSize+len(in.Name))
	b[0] = catVersion
	if in.Writable {
		b[1] = catFlagWrite
	}
	binary.LittleEndian.PutUint32(b[2:], in.Pointer)
	return append(b, in.Name...)
}

func decodeInfo(key, v []byte) (*Info, error) {
	if len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: catalogue key of %d bytes", ErrCorrupt, len(key))
	}
	if len(v) < catFixedSize || v[0] != catVersion || v[1]&^catFlagWrite != 0 {
		return nil, fmt.Errorf("%w: catalogue record for %x", ErrCorrupt, key[:8])
	}
	in := &Info{
		Pointer:  binary.LittleEndian.Uint32(v[2:]),
		Key:      append(ed25519.PublicKey(nil), key...),
		Writable: v[1]&catFlagWrite != 0,
		Name:     string(v[catFixedSize:]),
	}
	if in.Writable != (in.Name != "") {
		return nil, fmt.Errorf("%w: catalogue record for %x: writable books have names, others none", ErrCorrupt, key[:8])
	}
	in.DiscoveryKey = book.DiscoveryKey(in.Key)
	return in, nil
}

// checkName refuses names that cannot be stored or shown.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadName)
	case len(name) > maxNameLength:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrBadName, len(name), maxNameLength)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8", ErrBadName)
	}
	return nil
}
