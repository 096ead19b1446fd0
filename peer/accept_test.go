package peer

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/vault"
)

// TestHandshakeWithoutTheLock: io's callbacks into the messenger (Offer,
// Accept, Handshaken) only read the gate and enqueue, so a handshake
// finishes while Peer.mu is held — the shell stalled, as when a long
// scan or a write holds it. A newcomer's introduction is accepted by a
// stalled inviter, and the inviter's shell records the newcomer once it
// runs again; a stalled member still completes a handshake it starts.
// Before the change the inviter's Offer and Accept waited on Peer.mu
// (the handshake failed at io's HandshakeTimeout) and Handshaken's acks
// did too (the initiator's Handshake never returned).
func TestHandshakeWithoutTheLock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// bob's own listener hears of the handshake as soon as io reports
	// it: the introduction was accepted and its answer sent.
	introduced := make(chan struct{}, 1)
	o := testOptions("bob")
	o.Vault.Listener = &vault.EventListener{Handshaken: func(h folioio.Handshake) {
		if len(h.Introduced) > 0 {
			select {
			case introduced <- struct{}{}:
			default:
			}
		}
	}}
	bob, err := Open(ctx, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	ana := openPeer(t, t.TempDir(), "ana")
	task, code := newInvite(ctx, t, bob, "trip")

	stall := func(p *Peer) (resume func()) {
		p.mu.Lock()
		var once sync.Once
		resume = func() { once.Do(p.mu.Unlock) }
		t.Cleanup(resume)
		return resume
	}
	resume := stall(bob)
	joined := make(chan error, 1)
	go func() {
		_, err := ana.Join(ctx, code)
		joined <- err
	}()
	select {
	case <-introduced:
	case err := <-joined:
		t.Fatalf("Join returned while bob was stalled: %v", err)
	case <-ctx.Done():
		t.Fatal("bob's handshake waited on Peer.mu")
	}
	// The shell's work waits for the lock: bob does not know ana yet.
	resume()
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
	for {
		tk, err := bob.Task(task)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(tk.Members, ana.ID()) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("bob never recorded ana: members %v", tk.Members)
		case <-time.After(10 * time.Millisecond):
		}
	}

	// A handshake ana starts, sharing the task's books, reports to the
	// messenger (acks) while ana is stalled.
	resume = stall(ana)
	done := make(chan error, 1)
	go func() {
		h, err := ana.Vault().Swarm().Handshake(ctx, bob.ID())
		if err == nil && len(h.Shared) == 0 {
			t.Error("the handshake shares no book")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("ana's Handshaken callback waited on Peer.mu")
	}
	resume()
}
