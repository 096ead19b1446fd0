package vault

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/db"
	folioio "github.com/folio-p2p/folio/io"
)

// One replication session runs per connected peer. The peer with the
// smaller ID opens its stream; the other answers. Books join a running
// session with Session.Open.

// onHandshaken opens the introduced books and replicates every shared
// and introduced book with the remote.
func (v *Vault) onHandshaken(h folioio.Handshake) {
	keys := make([]ed25519.PublicKey, 0, len(h.Shared)+len(h.Introduced))
	for _, s := range h.Shared {
		keys = append(keys, s.Key)
	}
	for _, in := range h.Introduced {
		if _, err := v.db.OpenKey(v.ctx, in.Key); err != nil {
			v.reportError(fmt.Errorf("vault: open book %x introduced by %s: %w", in.Key[:8], h.Remote, err))
			continue
		}
		keys = append(keys, in.Key)
	}
	v.replicate(h.Remote, keys)
	if f := v.o.Listener.Handshaken; f != nil {
		f(h)
	}
}

func (v *Vault) onDisconnected(p peer.ID) {
	if f := v.o.Listener.Disconnected; f != nil {
		f(p)
	}
}

// Introduce hands books to remote (and only to remote) with an optional
// token and metadata each, and replicates those it keeps. The result's
// Rejected says which remote refused, and why.
func (v *Vault) Introduce(ctx context.Context, remote peer.ID, intros ...folioio.Introduction) (folioio.Handshake, error) {
	if v.swarm == nil {
		return folioio.Handshake{}, ErrOffline
	}
	h, err := v.swarm.Introduce(ctx, remote, intros...)
	if err != nil {
		return h, err
	}
	refused := map[string]bool{}
	for _, r := range h.Rejected {
		refused[string(r.Key)] = true
	}
	keys := make([]ed25519.PublicKey, 0, len(intros))
	for _, in := range intros {
		if !refused[string(in.Key)] {
			keys = append(keys, in.Key)
		}
	}
	v.replicate(remote, keys)
	return h, nil
}

// Connect dials ai, keeps redialing it when the connection drops, and
// handshakes.
func (v *Vault) Connect(ai peer.AddrInfo) error {
	if v.swarm == nil {
		return ErrOffline
	}
	return v.swarm.JoinPeer(ai)
}

// replicate makes sure keys replicate with remote.
func (v *Vault) replicate(remote peer.ID, keys []ed25519.PublicKey) {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	set := v.books[remote]
	if set == nil {
		set = map[string]ed25519.PublicKey{}
		v.books[remote] = set
	}
	// Every handshake names every shared book again: a running session
	// already carries those it had, so only the new ones are opened on
	// it, and a handshake costs the books it adds, not all of them.
	var fresh []ed25519.PublicKey
	for _, k := range keys {
		if _, ok := set[string(k)]; !ok {
			fresh = append(fresh, k)
		}
		set[string(k)] = k
	}
	if s := v.sessions[remote]; s != nil && s.Err() == nil {
		v.mu.Unlock()
		for _, k := range fresh {
			if err := s.Open(k); err != nil && s.Err() == nil {
				// Not opened (not in the DB yet): the next handshake
				// that names it tries again.
				v.mu.Lock()
				delete(set, string(k))
				v.mu.Unlock()
			}
		}
		return
	}
	// The smaller ID opens the stream, once.
	dial := v.id < remote && !v.opening[remote]
	if dial {
		v.opening[remote] = true
	}
	v.mu.Unlock()
	if dial {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			v.openSession(remote)
		}()
	}
}

// openSession opens the replication stream to remote, trying again
// (three times, a second apart) while the connection stays up.
func (v *Vault) openSession(remote peer.ID) {
	defer func() {
		v.mu.Lock()
		delete(v.opening, remote)
		v.mu.Unlock()
	}()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			select {
			case <-v.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			if v.swarm.Host().Network().Connectedness(remote) != network.Connected {
				break
			}
		}
		ctx, cancel := context.WithTimeout(v.ctx, 10*time.Second)
		var st network.Stream
		st, err = v.swarm.Host().NewStream(ctx, remote, db.ProtocolID)
		cancel()
		if err == nil {
			v.startSession(remote, st)
			return
		}
		if v.ctx.Err() != nil {
			return
		}
	}
	v.reportError(fmt.Errorf("vault: replicate with %s: %w", remote, err))
}

func (v *Vault) handleReplicate(st network.Stream) {
	v.startSession(st.Conn().RemotePeer(), st)
}

// startSession runs replication with remote over st, with every book
// pending for it. A newer stream replaces an older session.
func (v *Vault) startSession(remote peer.ID, st network.Stream) {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		st.Reset()
		return
	}
	if old := v.sessions[remote]; old != nil && old.Err() == nil && st.Stat().Direction == network.DirOutbound {
		// Raced with an earlier session that still runs: keep it.
		v.mu.Unlock()
		st.Reset()
		return
	}
	var books []ed25519.PublicKey
	for _, k := range v.books[remote] {
		books = append(books, k)
	}
	old := v.sessions[remote]
	// The session's own goroutine reports its end (SessionClosed), so no
	// goroutine per session waits on Done: at 100 members that was 9,900
	// parked goroutines. s is set under v.mu, which ended takes first; it
	// stays nil when Replicate fails, and then nothing was registered.
	var s *db.Session
	ended := func(_ []byte, err error) {
		v.mu.Lock()
		if s == nil {
			v.mu.Unlock()
			return
		}
		v.mu.Unlock()
		v.sessionEnded(remote, st, s, err)
	}
	s, err := v.db.Replicate(v.ctx, st, db.ReplicateOptions{
		LocalID: []byte(v.id), RemoteID: []byte(remote), Books: books,
		Listener: &db.ReplicationListener{SessionClosed: ended},
	})
	if err != nil {
		v.mu.Unlock()
		st.Reset()
		v.reportError(fmt.Errorf("vault: replicate with %s: %w", remote, err))
		return
	}
	v.sessions[remote] = s
	v.wg.Add(1)
	v.mu.Unlock()
	if old != nil {
		old.Close()
	}
	if f := v.o.Listener.SessionStarted; f != nil {
		f(remote)
	}
}

// sessionEnded runs on s's own goroutine once s ended with err: it
// forgets s and, still connected, has the opening side start a new one.
func (v *Vault) sessionEnded(remote peer.ID, st network.Stream, s *db.Session, err error) {
	defer v.wg.Done()
	v.mu.Lock()
	if v.sessions[remote] == s {
		delete(v.sessions, remote)
	}
	v.mu.Unlock()
	if f := v.o.Listener.SessionClosed; f != nil {
		f(remote, err)
	}
	// Still connected (the session was replaced or failed): the opening
	// side starts a fresh one after a pause, at once if the session's own
	// connection went (a duplicate the swarm closed, with another one
	// left).
	if v.id < remote && v.swarm.Host().Network().Connectedness(remote) == network.Connected {
		pause := time.Second
		if st.Conn().IsClosed() {
			pause = 0
		}
		select {
		case <-v.ctx.Done():
		case <-time.After(pause):
			v.replicate(remote, nil)
		}
	}
}

// Sessions returns the peers this vault replicates with now.
func (v *Vault) Sessions() []peer.ID {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]peer.ID, 0, len(v.sessions))
	for p := range v.sessions {
		out = append(out, p)
	}
	return out
}
