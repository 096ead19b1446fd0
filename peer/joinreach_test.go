package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// freePort is a TCP port on 127.0.0.1 that nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// inviterAt opens the peer in dir listening on 127.0.0.1:port.
func inviterAt(t testing.TB, ctx context.Context, dir string, port int) *Peer {
	t.Helper()
	o := testOptions("ana")
	o.Vault.ListenAddrs = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)}
	p, err := Open(ctx, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// joinAsync starts joiner.Join(code) and returns where its result goes.
func joinAsync(ctx context.Context, joiner *Peer, code string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := joiner.Join(ctx, code)
		done <- err
	}()
	return done
}

// TestJoinRetriesUntilInviterListens: the inviter is not listening when
// Join starts (its first attempt to reach it fails: nothing accepts the
// dial), and comes back on the same address while Join waits; Join
// reaches it on a later attempt and completes, and the two then talk.
// Before Join retried, it returned "connection refused" at once.
func TestJoinRetriesUntilInviterListens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dir, port := t.TempDir(), freePort(t)
	ana := inviterAt(t, ctx, dir, port)
	task, code := newInvite(ctx, t, ana, "retry")
	if err := ana.Close(); err != nil {
		t.Fatal(err)
	}
	o := testOptions("bob")
	o.JoinAttempts = 20 // the waits double: far longer than reopening takes
	bob, err := Open(ctx, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	done := joinAsync(ctx, bob, code)
	select {
	case err := <-done:
		t.Fatalf("Join returned while the inviter was closed: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	ana = inviterAt(t, ctx, dir, port)
	t.Cleanup(func() { ana.Close() })
	if err := <-done; err != nil {
		t.Fatalf("Join after the inviter came back: %v", err)
	}
	if _, err := bob.Send(ctx, task, "made it"); err != nil {
		t.Fatal(err)
	}
	waitTimeline(t, ana, task, 1, 60*time.Second)
}

// TestJoinGivesUpWhenInviterUnreachable: with the inviter gone for good,
// Join stops after Options.JoinAttempts attempts with ErrUnreachable,
// and at once when its context ends.
func TestJoinGivesUpWhenInviterUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ana := inviterAt(t, ctx, t.TempDir(), freePort(t))
	_, code := newInvite(ctx, t, ana, "gone")
	ana.Close()
	o := testOptions("bob")
	o.JoinAttempts = 3
	bob, err := Open(ctx, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	_, err = bob.Join(ctx, code)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Join to a closed inviter: %v, want ErrUnreachable", err)
	}

	o = testOptions("cy")
	o.JoinAttempts = 1000
	o.Retry = time.Hour // the first wait outlasts the test unless ctx ends it
	cy, err := Open(ctx, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cy.Close() })
	jctx, jcancel := context.WithCancel(ctx)
	done := joinAsync(jctx, cy, code)
	time.Sleep(200 * time.Millisecond)
	jcancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Join with its context cancelled: %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Join did not return when its context was cancelled")
	}
}

// A join whose first attempt got in but lost the answer tries again with
// the same token: the gate lets the newcomer (now a member) in again,
// spending nothing; anyone else is still refused the used invite.
func TestGateLetsJoinRetryAfterLostAnswer(t *testing.T) {
	me, bob, cy := peer.ID("ana"), peer.ID("bob"), peer.ID("cy")
	g := newGate()
	g.open(me)
	task := newTaskID()
	iv := &invite{id: []byte("invite-1"), task: task, secret: make([]byte, 16), expires: time.Now().Add(time.Hour).UnixMilli()}
	g.addInvite(iv)
	now := time.Now()
	used, err := g.check(bob, task, inviteToken(iv.secret, bob, me), nil, now)
	if err != nil || string(used) != "invite-1" {
		t.Fatalf("first use: used %q, err %v", used, err)
	}
	used, err = g.check(bob, task, inviteToken(iv.secret, bob, me), nil, now)
	if err != nil || used != nil {
		t.Fatalf("bob again: used %q, err %v; want let in, nothing spent", used, err)
	}
	if _, err := g.check(cy, task, inviteToken(iv.secret, cy, me), nil, now); !errors.Is(err, errInviteUsed) {
		t.Fatalf("cy with the used invite: %v, want errInviteUsed", err)
	}
}
