package io

import (
	"crypto/ed25519"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// An introduction right after JoinPeer (the messenger introducing its
// book to a member it has not met) waits for the dialer's handshake and
// goes briefly on that connection: one full handshake and one brief
// introduction, not two full handshakes each restating the shared books.
func TestIntroduceAfterJoinPeerWaitsForTheDialer(t *testing.T) {
	for range 5 {
		book := randomKey()
		offer := func(peer.ID) []ed25519.PublicKey { return []ed25519.PublicKey{book} }
		a, ea := hsSwarm(t, Options{Offer: offer})
		b, eb := hsSwarm(t, Options{Offer: offer})
		k := randomKey()
		if err := a.JoinPeer(addrInfo(b)); err != nil {
			t.Fatal(err)
		}
		h, err := a.Introduce(hsCtx(t), b.ID(), Introduction{Key: k})
		if err != nil {
			t.Fatal(err)
		}
		if !h.Brief || len(h.Rejected) != 0 {
			t.Fatalf("the introduction: brief %v, %d rejected; want brief, kept", h.Brief, len(h.Rejected))
		}
		hsWait(t, "the introduction at B", func() bool { return hsHasIntro(eb.with(a.ID()), k) })
		var full, brief int
		for _, h := range ea.with(b.ID()) {
			switch {
			case !h.Initiator:
			case h.Brief:
				brief++
			default:
				full++
			}
		}
		if full != 1 || brief != 1 {
			t.Fatalf("A opened %d full handshakes and %d brief introductions, want 1 and 1", full, brief)
		}
	}
}
