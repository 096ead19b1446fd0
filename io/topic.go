package io

import (
	"context"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/peer"
)

// topic is one joined topic and its discovery loop.
type topic struct {
	key    [32]byte
	opts   JoinOptions
	cancel context.CancelFunc
	wake   chan struct{}
	// round is closed when the current discovery round has finished;
	// guarded by Swarm.mu.
	round chan struct{}
	// again asks for one more round before round is closed (a Refresh
	// came while a round ran); guarded by Swarm.mu.
	again bool
}

// wakeLocked starts a new round of t, which Flush waits for from now on:
// a round that started before the call does not count.
func (t *topic) wakeLocked() {
	select {
	case <-t.round:
		t.round = make(chan struct{})
		select {
		case t.wake <- struct{}{}:
		default:
		}
	default:
		t.again = true
	}
}

// namespace is the DHT namespace of a topic.
func namespace(t [32]byte) string { return "folio/topic/" + hex.EncodeToString(t[:]) }

// Join takes part in topic: as a server it announces this peer; as a
// client it looks the topic up and dials and handshakes every peer found.
// Joining a joined topic updates its options and starts a new round.
func (s *Swarm) Join(topicKey []byte, jo JoinOptions) error {
	if len(topicKey) != 32 {
		return fmt.Errorf("%w: %d bytes, want 32", ErrTopic, len(topicKey))
	}
	if !jo.Server && !jo.Client {
		jo.Server, jo.Client = true, true
	}
	k := [32]byte(topicKey)
	if err := s.join(k, jo); err != nil {
		return err
	}
	if jo.Client {
		s.dialLAN(k)
	}
	return nil
}

func (s *Swarm) join(k [32]byte, jo JoinOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if t := s.topics[k]; t != nil {
		t.opts = jo
		t.wakeLocked()
		return nil
	}
	ctx, cancel := context.WithCancel(s.ctx)
	t := &topic{key: k, opts: jo, cancel: cancel, wake: make(chan struct{}, 1), round: make(chan struct{})}
	s.topics[k] = t
	s.wg.Add(1)
	go s.topicLoop(ctx, t)
	return nil
}

// Leave stops announcing and looking up topic; peers wanted only for it
// are no longer redialed. Open connections stay.
func (s *Swarm) Leave(topicKey []byte) error {
	if len(topicKey) != 32 {
		return fmt.Errorf("%w: %d bytes, want 32", ErrTopic, len(topicKey))
	}
	k := [32]byte(topicKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[k]
	if t == nil {
		return fmt.Errorf("%w: not joined", ErrTopic)
	}
	t.cancel()
	delete(s.topics, k)
	for p, r := range s.peers {
		delete(r.topics, k)
		s.forgetLocked(p)
	}
	return nil
}

// Topics returns the joined topics.
func (s *Swarm) Topics() [][32]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][32]byte, 0, len(s.topics))
	for k := range s.topics {
		out = append(out, k)
	}
	return out
}

// Flush returns when the current discovery round of every joined topic
// has finished: announcements made, lookups done, and every peer found
// dialed and handshaken once (or failed once). After Flush, no handshake
// for a topic means no peer was found for it yet.
func (s *Swarm) Flush(ctx context.Context) error {
	s.mu.Lock()
	var rounds []chan struct{}
	for _, t := range s.topics {
		rounds = append(rounds, t.round)
	}
	s.mu.Unlock()
	for _, r := range rounds {
		select {
		case <-r:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return ErrClosed
		}
	}
	return nil
}

// Refresh starts a new discovery round of every joined topic now; a Flush
// after it waits for that round.
func (s *Swarm) Refresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.topics {
		t.wakeLocked()
	}
}

// topicLoop runs discovery rounds for t until it is left or the swarm
// closes: soon after joining, then less and less often.
func (s *Swarm) topicLoop(ctx context.Context, t *topic) {
	defer s.wg.Done()
	// The first rounds come quickly: a peer that announced a moment
	// after our first lookup is found a quarter second later.
	waits := append([]time.Duration{250 * time.Millisecond}, s.o.Backoff...)
	for n := 0; ; n++ {
		s.runRound(ctx, t)
		s.mu.Lock()
		if t.again && ctx.Err() == nil {
			t.again = false
			s.mu.Unlock()
			continue
		}
		close(t.round)
		s.mu.Unlock()
		wait := s.o.RefreshInterval
		if n < len(waits) && waits[n] < wait {
			wait = waits[n]
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-t.wake:
			timer.Stop()
		case <-timer.C:
		}
		s.mu.Lock()
		select {
		case <-t.round:
			t.round = make(chan struct{})
		default: // opened by wakeLocked
		}
		s.mu.Unlock()
	}
}

// runRound announces and looks up t once, then waits for the first
// attempt at every peer found.
func (s *Swarm) runRound(ctx context.Context, t *topic) {
	if s.disc == nil {
		return
	}
	select {
	case <-s.booted:
	case <-ctx.Done():
		return
	}
	s.waitRouting(ctx)
	s.mu.Lock()
	jo := t.opts
	s.mu.Unlock()
	ns := namespace(t.key)
	var wg sync.WaitGroup
	if jo.Server {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			_, _ = s.disc.Advertise(actx, ns, discovery.TTL(3*time.Hour))
		}()
	}
	if jo.Client {
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		found, err := s.disc.FindPeers(fctx, ns)
		if err == nil {
			var tries []<-chan struct{}
			for ai := range found {
				if ai.ID == s.h.ID() || len(ai.Addrs) == 0 && s.h.Peerstore().PeerInfo(ai.ID).Addrs == nil {
					continue
				}
				ch, _ := s.want(ai, func(r *remote) { r.topics[t.key] = true }, !s.sharesTopic(ai.ID, t.key))
				tries = append(tries, ch)
			}
			for _, ch := range tries {
				select {
				case <-ch:
				case <-ctx.Done():
				}
			}
		}
	}
	wg.Wait()
}

// sharesTopic reports whether p's latest handshake already names t.
func (s *Swarm) sharesTopic(p peer.ID, t [32]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.peers[p]
	if r == nil || !r.handshaken {
		return false
	}
	for _, x := range r.last.Topics {
		if x == t {
			return true
		}
	}
	return false
}

// waitRouting waits (a few seconds at most) for the DHT to know a peer:
// announcing into an empty routing table fails.
func (s *Swarm) waitRouting(ctx context.Context) {
	deadline := time.Now().Add(5 * time.Second)
	for s.dht.RoutingTable().Size() == 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Millisecond): // it fills within ~1 ms of bootstrap
		}
	}
}

// maxLANPeers bounds the LAN peers remembered from mDNS.
const maxLANPeers = 1024

// mdnsNotifee dials LAN peers while some topic is joined as a client; the
// handshake then tells what, if anything, is shared.
type mdnsNotifee struct{ s *Swarm }

func (n mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	s := n.s
	if ai.ID == s.h.ID() {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	// mDNS reports a peer once: remember it for topics joined later (a
	// bounded number of them: a LAN with more peers than that loses some
	// old ones, until mDNS reports them again).
	if _, ok := s.lan[ai.ID]; !ok && len(s.lan) >= maxLANPeers {
		for p := range s.lan {
			delete(s.lan, p)
			break
		}
	}
	s.lan[ai.ID] = ai
	client := false
	for _, t := range s.topics {
		client = client || t.opts.Client
	}
	s.mu.Unlock()
	if !client {
		return
	}
	_, _ = s.want(ai, func(r *remote) { r.lan = true }, false)
}

// dialLAN dials the LAN peers seen so far for topic k, just joined as a
// client (they may have been found before the join), unless their latest
// handshake already shows k.
func (s *Swarm) dialLAN(k [32]byte) {
	s.mu.Lock()
	ais := make([]peer.AddrInfo, 0, len(s.lan))
	for _, ai := range s.lan {
		ais = append(ais, ai)
	}
	s.mu.Unlock()
	for _, ai := range ais {
		_, _ = s.want(ai, func(r *remote) { r.lan = true }, !s.sharesTopic(ai.ID, k))
	}
}
