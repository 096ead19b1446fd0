package peer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestOfflineCatchUp: a member that was closed while the other wrote
// catches up after it reopens, with every message exactly once. First Ana
// is away while Bob (who stays on his port) writes 500 messages; then Bob
// is away while Ana writes, and Bob comes back on a new random port: he
// dials Ana at the address he recorded for her, so Ana need not find him.
func TestOfflineCatchUp(t *testing.T) {
	const n = 500
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bobDir, anaDir := t.TempDir(), t.TempDir()
	bob := openPeer(t, bobDir, "bob")
	ana := openPeer(t, anaDir, "ana")
	task := mustCreate(t, ctx, bob, "trip")
	mustJoin(t, ctx, bob, ana, task)
	var sent []string
	say := func(p *Peer, text string) {
		mustSend(t, ctx, p, task, text)
		sent = append(sent, text)
	}
	say(bob, "hello ana")
	say(ana, "hello bob")
	// task update + ana's join + messages
	header := 2
	waitConverged(t, []*Peer{bob, ana}, task, header+len(sent), 30*time.Second)

	// Ana is away while Bob writes.
	anaID := ana.ID()
	if err := ana.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ana.Send(ctx, task, "from the grave"); err == nil {
		t.Fatal("a closed peer sent a message")
	}
	for i := 0; i < n; i++ {
		say(bob, fmt.Sprintf("bob while ana is away %d", i))
	}
	ana = openPeer(t, anaDir, "")
	if ana.ID() != anaID {
		t.Fatalf("ana reopened as %s, was %s", ana.ID(), anaID)
	}
	final := waitConverged(t, []*Peer{bob, ana}, task, header+len(sent), 60*time.Second)
	checkExactlyOnce(t, "after ana's return", final, sent)
	say(ana, "back")
	waitConverged(t, []*Peer{bob, ana}, task, header+len(sent), 30*time.Second)

	// Bob is away while Ana writes, and comes back elsewhere. He finds
	// Ana at the address she gave when she came back (her introduction),
	// not through what libp2p's peerstore picked up on the way: that
	// expires (cleared here).
	waitRecordedAddr(t, bob, task, ana, 10*time.Second)
	bob.Vault().Peerstore().ClearAddrs(ana.ID())
	oldPort := tcpPort(t, bob)
	if err := bob.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		say(ana, fmt.Sprintf("ana while bob is away %d", i))
	}
	bob = openPeer(t, bobDir, "")
	if port := tcpPort(t, bob); port == oldPort {
		t.Logf("bob got his old port %s again", port)
	}
	final = waitConverged(t, []*Peer{bob, ana}, task, header+len(sent), 60*time.Second)
	checkExactlyOnce(t, "after bob's return", final, sent)

	// And both still talk both ways.
	say(bob, "bob again")
	say(ana, "ana again")
	final = waitConverged(t, []*Peer{bob, ana}, task, header+len(sent), 30*time.Second)
	checkExactlyOnce(t, "at the end", final, sent)
	// Ana learnt where Bob moved (from his introduction).
	waitRecordedAddr(t, ana, task, bob, 10*time.Second)
	for _, p := range []*Peer{bob, ana} {
		auditBooks(t, ctx, p, task)
	}
}

// waitRecordedAddr waits until p's member record of m holds m's current
// TCP address: m's introductions keep it up to date.
func waitRecordedAddr(t testing.TB, p *Peer, task TaskID, m *Peer, timeout time.Duration) {
	t.Helper()
	want := "/tcp/" + tcpPort(t, m)
	deadline := time.Now().Add(timeout)
	for {
		p.mu.Lock()
		var got []string
		if mm := p.roots[task].members[m.ID()]; mm != nil {
			for _, a := range mm.addrs {
				got = append(got, a.String())
			}
		}
		p.mu.Unlock()
		for _, a := range got {
			if strings.HasSuffix(a, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s records %v for %s, which listens on %v", p.ID().ShortString(), got, m.ID().ShortString(), m.Vault().Host().Addrs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
