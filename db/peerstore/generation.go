package peerstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
)

// Journal generations keep the disk bounded by the live state. Clearing
// the pages before a checkpoint (book.Clear) keeps each cleared page's
// leaf hash and tree nodes, so that proofs of later pages still work: ~82
// bytes per page for ever, however little the state. So a checkpoint
// starts a new journal book instead — generation g+1, named
// Options.Name + "~" + g+1 in 16 hex digits (generation 0 is Options.Name
// itself) — writes the Checkpoint and chunk pages there, and only then
// deletes the previous book (db.DeleteBook: one range deletion, synced,
// then a compaction of its range), and the flusher goes on appending to
// the new one. Disk use then follows the live state, not the history.
//
// A crash leaves at most two generations: the previous one, complete, and
// a new one whose checkpoint may be partial (the flusher writes nothing
// else to it before the previous one is deleted). Open therefore takes
// the oldest generation and deletes the newer ones.
//
// With Options.NoClear a checkpoint stays in the same book and nothing is
// deleted (tests and audits fold the whole history).

// genSep separates the journal's name from its generation.
const genSep = "~"

// genName returns the name of generation g of the journal called base.
func genName(base string, g uint64) string {
	if g == 0 {
		return base
	}
	return fmt.Sprintf("%s%s%016x", base, genSep, g)
}

// JournalGeneration reports whether name is a generation of the journal
// called base, and which (tools that list books use it).
func JournalGeneration(base, name string) (uint64, bool) {
	if name == base {
		return 0, true
	}
	hex, ok := strings.CutPrefix(name, base+genSep)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	g, err := strconv.ParseUint(hex, 16, 64)
	return g, err == nil && g > 0
}

// generation returns the current journal book's generation.
func (ps *Peerstore) generation() uint64 {
	g, _ := JournalGeneration(ps.o.Name, ps.Journal().Name())
	return g
}

// openJournal opens the journal's oldest generation (creating generation
// 0 on first use) and deletes the newer ones a crash left behind.
func openJournal(ctx context.Context, d *db.DB, base string) (*book.Book, uint64, error) {
	names, err := d.Names(base)
	if err != nil {
		return nil, 0, err
	}
	var gens []uint64
	for _, n := range names {
		if g, ok := JournalGeneration(base, n); ok {
			gens = append(gens, g)
		}
	}
	slices.Sort(gens)
	cur := uint64(0)
	if len(gens) > 0 {
		cur = gens[0]
	}
	for _, g := range gens[min(1, len(gens)):] {
		if err := deleteBook(ctx, d, genName(base, g)); err != nil {
			return nil, 0, fmt.Errorf("drop the unfinished checkpoint %s: %w", genName(base, g), err)
		}
	}
	b, err := d.Book(ctx, genName(base, cur))
	return b, cur, err
}

// deleteBook deletes the named book. It reports success once the deletion
// is committed, even if the compaction after it failed.
func deleteBook(ctx context.Context, d *db.DB, name string) error {
	in, err := d.LookupName(name)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	err = d.DeleteBook(ctx, in.Key)
	if err == nil {
		return nil
	}
	if _, gone := d.Info(in.Key); errors.Is(gone, db.ErrNotFound) {
		return nil // deleted; only the compaction failed (Pebble compacts later)
	}
	return err
}
