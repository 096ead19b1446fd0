package peerstore

import (
	"context"
	"fmt"

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
// peer, then clears the pages before it. Writers are not stopped: a peer
// changed while the chunks are written is dirty, and its change page
// follows the checkpoint, so folding from the Checkpoint page in order
// gives the live state. Nothing is cleared unless every page is appended.
func (j *journal) checkpoint(ctx context.Context) error {
	peers := j.pr.remembered()
	now := j.o.Clock.Now().UnixNano()
	header := checkpointPage(len(peers), now)
	start := j.b.Length()
	w := chunkWriter{j: j, e: newEncoder(), now: now, pending: [][]byte{header}, pendingBytes: len(header)}
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
	if !j.o.NoClear && start > 0 {
		if err := j.b.Clear(ctx, 0, start); err != nil {
			return fmt.Errorf("peerstore: clear journal before checkpoint %d: %w", start, err)
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

// chunkWriter packs peers into chunk pages and appends them in batches.
type chunkWriter struct {
	j            *journal
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
	if err := w.j.append(w.pending); err != nil {
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
