package devtools

import (
	"encoding/hex"
	"fmt"
	"io"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/internal/safeterm"
)

// PageInfo is one stored page as `pages` and `page` report it.
type PageInfo struct {
	Index    uint64 `json:"index"`
	Size     int    `json:"size"`
	LeafHash string `json:"leaf_hash"` // as stored
	// LeafOK is false when the stored leaf hash is not the hash of the
	// stored bytes (folio devtools verify says more).
	LeafOK      bool   `json:"leaf_ok"`
	Type        string `json:"type,omitempty"` // the decoded type, when folio knows the book's pages
	Decoded     fields `json:"decoded,omitempty"`
	DecodeError string `json:"decode_error,omitempty"`
	Hex         string `json:"hex,omitempty"` // the bytes, when not decoded
}

// PageRange is a run of pages not stored here.
type PageRange struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"` // inclusive
}

func (in *inspector) pages(args []string) int {
	fs := in.flags("The pages of BOOK from --from to --to (inclusive; default: all): index,\nsize, leaf hash, and the content decoded when folio knows the book's pages\n(pair books' addresses and envelopes, the peerstore journal, the profile,\nthe messenger's journal), hex otherwise. Pages not stored here are named.")
	from := fs.Uint64("from", 0, "first page to show")
	to := fs.Int64("to", -1, "last page to show, inclusive (default: the last page)")
	full := fs.Bool("full", false, "print undecoded pages whole (default: their first 64 bytes)")
	pos, ok, code := in.parse(fs, args, 1, 1)
	if !ok {
		return code
	}
	e, snap, code := in.openSnapshot(pos[0])
	if e == nil {
		return code
	}
	defer snap.Close()
	last := int64(snap.Length()) - 1
	if *to >= 0 && *to < last {
		last = *to
	}
	var got []PageInfo
	var missing []PageRange
	next := *from
	if last >= int64(*from) {
		err := snap.Pages(*from, uint64(last)+1, func(i uint64, page []byte) error {
			if i > next {
				missing = append(missing, PageRange{next, i - 1})
			}
			next = i + 1
			got = append(got, pageInfo(snap, e.kind, i, page))
			return nil
		})
		if err != nil {
			return in.fail("read the pages of %s: %v", e.label(), err)
		}
		if uint64(last) >= next {
			missing = append(missing, PageRange{next, uint64(last)})
		}
	}
	if in.json {
		in.emit(struct {
			Book    BookRef     `json:"book"`
			From    uint64      `json:"from"`
			To      int64       `json:"to"`
			Pages   []PageInfo  `json:"pages"`
			Missing []PageRange `json:"missing"`
		}{bookRef(e, snap.Head()), *from, last, nonNil(got), nonNil(missing)})
		return 0
	}
	in.printf("%s\n", bookLine(e, snap.Head()))
	switch {
	case snap.Length() == 0:
		in.printf("the book has no pages\n")
		return 0
	case last < int64(*from):
		in.printf("no pages to show: the book's last page is %d\n", snap.Length()-1)
		return 0
	}
	in.printf("pages %d to %d: %d stored here\n\n", *from, last, len(got))
	mi := 0
	for _, p := range got {
		for mi < len(missing) && missing[mi].From < p.Index {
			writeMissing(in.stdout, missing[mi])
			mi++
		}
		writePage(in.stdout, p, *full)
	}
	for ; mi < len(missing); mi++ {
		writeMissing(in.stdout, missing[mi])
	}
	return 0
}

// pageInfo describes page i of a snapshot.
func pageInfo(snap *book.Snapshot, kind bookKind, i uint64, page []byte) PageInfo {
	p := PageInfo{Index: i, Size: len(page), LeafOK: true}
	computed := book.LeafHash(page)
	stored := computed
	if n, err := snap.Node(2 * i); err == nil {
		stored = n.Hash
	}
	p.LeafHash, p.LeafOK = hex.EncodeToString(stored[:]), stored == computed
	d := decodePage(kind, i, page)
	switch {
	case d == nil:
		p.Hex = hex.EncodeToString(page)
	case d.Err != nil:
		p.Type, p.DecodeError, p.Hex = d.Type, d.Err.Error(), hex.EncodeToString(page)
	default:
		p.Type, p.Decoded = d.Type, d.Fields
	}
	return p
}

// writePage prints one page: a header line, then its content indented.
func writePage(w io.Writer, p PageInfo, full bool) {
	fmt.Fprintf(w, "page %d  %d bytes  leaf %s…", p.Index, p.Size, p.LeafHash[:16])
	if !p.LeafOK {
		fmt.Fprintf(w, " (DOES NOT MATCH THE BYTES)")
	}
	if p.Type != "" {
		fmt.Fprintf(w, "  %s", p.Type)
	}
	fmt.Fprintln(w)
	if p.DecodeError != "" {
		fmt.Fprintf(w, "  undecodable: %s\n", safeterm.Printable(p.DecodeError))
	}
	if p.Decoded != nil {
		p.Decoded.write(w, "  ")
	}
	if p.Hex != "" || (p.Decoded == nil && p.Size == 0) {
		fmt.Fprintf(w, "  hex  %s\n", hexText(p.Hex, full))
	}
}

// hexText shortens hex to 64 bytes unless full.
func hexText(h string, full bool) string {
	switch {
	case h == "":
		return "(empty)"
	case full || len(h) <= 128:
		return h
	}
	return fmt.Sprintf("%s… (%d more bytes; --full or --json show all)", h[:128], (len(h)-128)/2)
}

func writeMissing(w io.Writer, r PageRange) {
	if r.From == r.To {
		fmt.Fprintf(w, "page %d  not stored here\n", r.From)
		return
	}
	fmt.Fprintf(w, "pages %d to %d  not stored here\n", r.From, r.To)
}

// BookRef names a book in JSON output.
type BookRef struct {
	Title  string `json:"title"`
	Key    string `json:"key"`
	Length uint64 `json:"length"`
	Bytes  uint64 `json:"bytes"`
	Fork   uint64 `json:"fork"`
}

func bookRef(e *bookEntry, h *book.Head) BookRef {
	return BookRef{Title: e.title, Key: hex.EncodeToString(e.info.Key), Length: h.Length, Bytes: h.ByteLength, Fork: h.Fork}
}

// bookLine names a book and its signed state in one line.
func bookLine(e *bookEntry, h *book.Head) string {
	return fmt.Sprintf("book %s  key %s…  %d pages, %d bytes, fork %d", e.label(), hex.EncodeToString(e.info.Key[:8]), h.Length, h.ByteLength, h.Fork)
}

// nonNil makes JSON print [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
