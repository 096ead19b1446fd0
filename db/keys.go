package db

import "encoding/binary"

// Key layout of the DB's Pebble instance:
//
//	0x00 "primary"          → the 32-byte primary key
//	0x00 "next"             → u32le: the next free book pointer
//	0x01 'k' key(32)        → catalogue record (catalogue.go)
//	0x01 'n' name           → key(32): a named (writable) book
//	0x01 'd' dkey(32)       → key(32): lookup by discovery key
//	0x02 u32be(pointer) …   → the book's own keys (see package book)
//
// A book's pointer is a small integer given once and never reused, so a
// book's keys are short and a deleted book's range is never confused with
// a new one's.
var (
	keyPrimary = []byte("\x00primary")
	keyNext    = []byte("\x00next")
)

const (
	catalogueTag = 0x01
	bookTag      = 0x02
)

func catKey(sub byte, id []byte) []byte {
	return append([]byte{catalogueTag, sub}, id...)
}

func keyByKey(key []byte) []byte   { return catKey('k', key) }
func keyByName(name string) []byte { return catKey('n', []byte(name)) }
func keyByDKey(dk []byte) []byte   { return catKey('d', dk) }

// bookPrefix returns the key prefix of the book with pointer p.
func bookPrefix(p uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{bookTag}, p)
}

// bookRange returns [start, end) of every key of book p.
func bookRange(p uint32) (start, end []byte) {
	if p == ^uint32(0) {
		return bookPrefix(p), []byte{bookTag + 1}
	}
	return bookPrefix(p), bookPrefix(p + 1)
}
