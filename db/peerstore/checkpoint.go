package peerstore

import (
	"context"
	"fmt"

	"github.com/folio-p2p/folio/book"

	"github.com/libp2p/go-libp2p/core/peer"
)

// checkpointGroup is how many peers are snapshotted per hold of the gate.
const checkpointGroup = 1024

// maybeCheckpoint writes a checkpoint once CheckpointEvery change pages
// follow the last one and the stored journal is at least 1.5 times the
// size a checkpoint would have (estimated as the known peers times the
// mean change page): a checkpoint then at least a third smaller than what
// it replaces, and opening never folds more than about 1.5 checkpoints.
func (j *journal) maybeCheckpoint() {
	st := j.stats()
	if st.sincePages < j.o.CheckpointEvery {
		return
	}
	est := float64(j.pr.t.count()) * float64(st.sinceBytes) / float64(st.sincePages)
	if float64(st.ckptBytes+st.sinceBytes) < 1.5*est {
		return
	}
	if err := j.checkpoint(context.Background()); err != nil {
		j.mu.Lock()
		j.st.errors++
		j.mu.Unlock()
		j.o.OnError(err)
	}
}

// checkpoint appends a Checkpoint page and chunk pages restating every
// peer — in a new generation of the journal, deleting the previous one
// once it is complete (generation.go), or with Options.NoClear after the
// pages of the same book. Writers are not stopped: a peer changed while
// the chunks are written is dirty, and its change page follows the
// checkpoint, so folding from the Checkpoint page in order gives the live
// state. Nothing is deleted unless every page is appended.
func (j *journal) checkpoint(ctx context.Context) error {
	j.ckptMu.Lock()
	defer j.ckptMu.Unlock()
	old, to := j.book(), j.book()
	if !j.o.NoClear {
		var err error
		if to, err = j.nextGeneration(ctx); err != nil {
			return err
		}
	}
	peers := j.pr.remembered()
	now := j.o.Clock.Now().UnixNano()
	header := checkpointPage(len(peers), now)
	start := to.Length()
	w := chunkWriter{j: j, to: to, e: newEncoder(), now: now, pending: [][]byte{header}, pendingBytes: len(header)}
	for len(peers) > 0 {
		n := min(len(peers), checkpointGroup)
		if err := w.addGroup(peers[:n]); err != nil {
			return err
		}
		peers = peers[n:]
	}
	if err := w.finish(); err != nil {
		return err
	}
	if to != old {
		if err := j.replace(ctx, old, to); err != nil {
			return err
		}
	}
	j.mu.Lock()
	j.st.checkpoints++
	j.st.ckptIndex, j.st.ckptBytes = start, w.chunkBytes
	j.st.sincePages, j.st.sinceBytes = 0, 0
	j.st.pages += uint64(w.pages)
	j.st.bytes += uint64(w.chunkBytes) + uint64(len(header))
	j.mu.Unlock()
	return nil
}

// nextGeneration returns the next generation's book, empty (a failed
// checkpoint may have left pages in it).
func (j *journal) nextGeneration(ctx context.Context) (*book.Book, error) {
	name := genName(j.o.Name, j.gen+1)
	if err := deleteBook(ctx, j.d, name); err != nil {
		return nil, fmt.Errorf("peerstore: checkpoint: %w", err)
	}
	b, err := j.d.Book(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("peerstore: checkpoint: %w", err)
	}
	return b, nil
}

// replace makes the complete checkpoint in book to the journal, deleting
// the previous generation. Until that deletion is committed, the previous
// generation is the journal (Open takes the oldest one).
func (j *journal) replace(ctx context.Context, old, to *book.Book) error {
	if err := deleteBook(ctx, j.d, old.Name()); err != nil {
		_ = deleteBook(ctx, j.d, to.Name())
		return fmt.Errorf("peerstore: checkpoint: delete the previous journal %s: %w", old.Name(), err)
	}
	j.gen++
	j.cur.Store(to)
	return nil
}

// chunkWriter packs peers into chunk pages and appends them in batches.
type chunkWriter struct {
	j            *journal
	to           *book.Book // the book the checkpoint goes to
	e            *encoder
	now          int64
	chunk        [][]byte // encoded Peer messages
	chunkSize    int
	pending      [][]byte
	pendingBytes int
	pages        int
	chunkBytes   int64
}

// addGroup snapshots a group of peers (whole, every journaled book) under
// the gate, so that no multi-book call is seen half done.
func (w *chunkWriter) addGroup(ids []peer.ID) error {
	bs := make([]books, len(ids))
	for i := range bs {
		bs[i] = journaled
	}
	w.j.gate.Lock()
	snaps := w.j.pr.capture(ids, bs)
	w.j.gate.Unlock()
	for i := range snaps {
		if snaps[i].empty() {
			continue
		}
		rec := w.e.appendPeer(nil, &snaps[i])
		size := len(rec) + 8
		if size > w.j.o.MaxPageSize {
			w.j.report(fmt.Errorf("peerstore: peer %s not in the checkpoint (kept in memory): %d bytes, page limit %d",
				snaps[i].id, size, w.j.o.MaxPageSize), true)
			continue
		}
		if w.chunkSize+size > w.j.o.MaxPageSize {
			if err := w.seal(); err != nil {
				return err
			}
		}
		w.chunk = append(w.chunk, rec)
		w.chunkSize += size
	}
	return nil
}

// seal turns the current chunk into a page, appending when enough wait.
func (w *chunkWriter) seal() error {
	if len(w.chunk) == 0 {
		return nil
	}
	data := chunkPage(w.chunk, w.now)
	w.chunk, w.chunkSize = nil, 0
	w.pending = append(w.pending, data)
	w.pendingBytes += len(data)
	w.chunkBytes += int64(len(data))
	if w.pendingBytes >= maxAppendBytes/2 || len(w.pending) >= maxAppendPages {
		return w.flush()
	}
	return nil
}

func (w *chunkWriter) flush() error {
	if err := appendTo(w.to, w.pending); err != nil {
		return fmt.Errorf("peerstore: checkpoint: %w", err)
	}
	w.pages += len(w.pending)
	w.pending, w.pendingBytes = nil, 0
	return nil
}

func (w *chunkWriter) finish() error {
	if err := w.seal(); err != nil {
		return err
	}
	return w.flush()
}
