package io

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestRelocateThroughDHT: a wanted peer that comes back on another port
// is found again through the DHT (FindPeer) once its known address fails.
func TestRelocateThroughDHT(t *testing.T) {
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	boot := newSwarm(t, loopback(Options{DHTServer: true}))
	ra := newRecorder()
	// a is a DHT client: no one's routing table lists it, so b does not
	// stumble on it while joining the DHT; a must look b up itself.
	a := newSwarm(t, loopback(Options{
		BootstrapPeers: []peer.AddrInfo{addrInfo(boot)}, Listener: ra.listener(),
		Backoff: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
	}))
	bOpts := loopback(Options{DHTServer: true, BootstrapPeers: []peer.AddrInfo{addrInfo(boot)}})
	bOpts.HostOptions.PrivateKey = key
	b := newSwarm(t, bOpts)
	bID := b.ID()
	if err := a.JoinPeer(addrInfo(b)); err != nil {
		t.Fatal(err)
	}
	ra.waitHandshake(t, bID, 30*time.Second, nil)
	oldAddrs := b.Host().Addrs()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// b comes back with the same identity on a new random port and joins
	// the DHT through the bootstrap peer; a only knows the old address.
	b2Opts := loopback(Options{DHTServer: true, BootstrapPeers: []peer.AddrInfo{addrInfo(boot)}})
	b2Opts.HostOptions.PrivateKey = key
	b2 := newSwarm(t, b2Opts)
	if b2.Host().Addrs()[0].Equal(oldAddrs[0]) {
		t.Skip("the OS gave the same port again; nothing to relocate")
	}
	before := ra.handshakesWith(bID)
	deadline := time.Now().Add(30 * time.Second)
	for ra.handshakesWith(bID) == before {
		if time.Now().After(deadline) {
			t.Fatalf("a never found b again at its new address %v", b2.Host().Addrs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
