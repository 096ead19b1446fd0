package peer

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// randomMember is one member of the randomized scenario: its vault stays
// in dir and it listens on the same port across restarts, so the
// addresses the others recorded stay good.
type randomMember struct {
	name, dir, port string
	p               *Peer // nil while offline
}

func (m *randomMember) open(t *testing.T) {
	t.Helper()
	var err error
	for try := 0; ; try++ {
		var p *Peer
		if p, err = Open(context.Background(), m.dir, optionsOnPort(m.name, m.port)); err == nil {
			m.p = p
			t.Cleanup(func() { p.Close() })
			return
		}
		if try == 20 {
			t.Fatalf("reopen %s on port %s: %v", m.name, m.port, err)
		}
		time.Sleep(100 * time.Millisecond) // the port may linger a moment
	}
}

func (m *randomMember) close(t *testing.T) {
	t.Helper()
	if err := m.p.Close(); err != nil {
		t.Fatalf("close %s: %v", m.name, err)
	}
	m.p = nil
}

// TestRandomizedConvergence: three members send, go offline and come back
// in a random order (seeded; set PEER_RANDOM_SEED to replay); in the end,
// all online, every timeline is the same and holds every message once.
func TestRandomizedConvergence(t *testing.T) {
	const total = 150
	seed := time.Now().UnixNano()
	if s := os.Getenv("PEER_RANDOM_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (PEER_RANDOM_SEED=%d to replay)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	ms := []*randomMember{{name: "bob"}, {name: "ana"}, {name: "carol"}}
	for _, m := range ms {
		m.dir = t.TempDir()
		m.p = openPeer(t, m.dir, m.name)
		m.port = tcpPort(t, m.p)
	}
	bob, ana, carol := ms[0], ms[1], ms[2]
	task := mustCreate(t, ctx, bob.p, "random")
	mustJoin(t, ctx, bob.p, ana.p, task)
	mustJoin(t, ctx, ana.p, carol.p, task)
	const header = 3 // task update and two joins
	waitConverged(t, []*Peer{bob.p, ana.p, carol.p}, task, header, 30*time.Second)
	// Each remembers the others at their fixed ports.
	for _, m := range ms {
		for _, o := range ms {
			if m != o {
				waitRecordedAddr(t, m.p, task, o.p, 30*time.Second)
			}
		}
	}

	var sent []string
	var log []string
	online := func() []*randomMember {
		var out []*randomMember
		for _, m := range ms {
			if m.p != nil {
				out = append(out, m)
			}
		}
		return out
	}
	for step := 0; len(sent) < total; step++ {
		up := online()
		switch r := rng.Intn(20); {
		case r < 16 && len(up) > 0: // send
			m := up[rng.Intn(len(up))]
			text := fmt.Sprintf("%s #%d (step %d)", m.name, len(sent), step)
			mustSend(t, ctx, m.p, task, text)
			sent = append(sent, text)
		case r < 18 && len(up) > 1: // someone leaves (one stays)
			m := up[rng.Intn(len(up))]
			m.close(t)
			log = append(log, fmt.Sprintf("step %d: %s off", step, m.name))
		default: // someone comes back
			for _, m := range ms {
				if m.p == nil {
					m.open(t)
					log = append(log, fmt.Sprintf("step %d: %s on", step, m.name))
					break
				}
			}
		}
		if rng.Intn(8) == 0 {
			time.Sleep(time.Duration(rng.Intn(30)) * time.Millisecond)
		}
	}
	t.Logf("restarts: %s", strings.Join(log, "; "))
	for _, m := range ms {
		if m.p == nil {
			m.open(t)
		}
	}
	peers := []*Peer{bob.p, ana.p, carol.p}
	final := waitConverged(t, peers, task, header+len(sent), 60*time.Second)
	checkExactlyOnce(t, "everyone", final, sent)
	for _, p := range peers {
		if books := auditBooks(t, ctx, p, task); len(books) != 4 {
			t.Errorf("%s holds %d books, want 4", p.ID().ShortString(), len(books))
		}
	}
}
