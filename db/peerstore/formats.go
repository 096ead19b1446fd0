package peerstore

import "fmt"

// The bits of a journal Peer page's books field: which books the page
// restates.
const (
	JournalAddrs  = uint32(bookAddrs)  // addresses and the signed peer record
	JournalKey    = uint32(bookKey)    // public key
	JournalProtos = uint32(bookProtos) // protocols
	JournalMeta   = uint32(bookMeta)   // metadata
)

// JournalBookNames names the books of a journal Peer page's books field
// (the bit set this package writes and folds: addresses with the signed
// record, public key, protocols, metadata), for tools that show journal
// pages. Bits it does not know are named "unknown 0x…". These bits are
// the code's, not the Book enum's of pb/peerstore.proto.
func JournalBookNames(bits uint32) []string {
	var names []string
	for _, b := range []struct {
		bit  uint32
		name string
	}{{JournalAddrs, "addrs and record"}, {JournalKey, "public key"}, {JournalProtos, "protocols"}, {JournalMeta, "metadata"}} {
		if bits&b.bit != 0 {
			names = append(names, b.name)
		}
	}
	if rest := bits &^ uint32(journaled); rest != 0 {
		names = append(names, fmt.Sprintf("unknown %#x", rest))
	}
	return names
}
