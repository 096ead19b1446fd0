package io

import (
	"context"
	"crypto/ed25519"
	"github.com/libp2p/go-libp2p/core/peer"
	"testing"
	"time"
)

func TestSmokeDHTTopic(t *testing.T) {
	boot := newSwarm(t, loopback(Options{}))
	ra, rb := newRecorder(), newRecorder()
	book := randomKey()
	a := newSwarm(t, loopback(Options{BootstrapPeers: []peer.AddrInfo{addrInfo(boot)}, DHTServer: true, Listener: ra.listener(), Offer: offerOf(book)}))
	b := newSwarm(t, loopback(Options{BootstrapPeers: []peer.AddrInfo{addrInfo(boot)}, DHTServer: true, Listener: rb.listener(), Offer: offerOf(book)}))
	topic := randomTopic()
	start := time.Now()
	if err := a.Join(topic, JoinOptions{Server: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Join(topic, JoinOptions{Client: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	h := rb.waitHandshake(t, a.ID(), 20*time.Second, nil)
	t.Logf("handshake after %v: %+v", time.Since(start), h)
	if len(h.Shared) != 1 || len(h.Topics) != 1 {
		t.Fatalf("shared %d topics %d", len(h.Shared), len(h.Topics))
	}
	ha := ra.waitHandshake(t, b.ID(), 5*time.Second, nil)
	if len(ha.Shared) != 1 || len(ha.Topics) != 1 || ha.Initiator {
		t.Fatalf("responder: %+v", ha)
	}
}

func offerOf(keys ...ed25519.PublicKey) func(peer.ID) []ed25519.PublicKey {
	return func(peer.ID) []ed25519.PublicKey { return keys }
}
