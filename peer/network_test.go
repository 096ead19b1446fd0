package peer

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
)

// TestOpenOffline: a member opened with Vault.Offline reads and writes its
// tasks with no network (no nil-host panic), makes invites with the
// addresses its last online run recorded, refuses Join with ErrOffline
// without recording anything, and what it wrote reaches the other member
// once it runs online again.
func TestOpenOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	anaDir := t.TempDir()
	bob := openPeer(t, t.TempDir(), "bob")
	ana := openPeer(t, anaDir, "ana")
	task := mustCreate(t, ctx, bob, "trip")
	mustJoin(t, ctx, bob, ana, task)
	lastAddrs := ana.Vault().Host().Addrs()
	if err := ana.Close(); err != nil {
		t.Fatal(err)
	}

	o := testOptions("")
	o.Vault.Offline = true
	ana, err := Open(ctx, anaDir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer ana.Close()
	if !ana.Offline() || ana.Vault().Host() != nil {
		t.Fatalf("Offline %v, Host %v: want an offline peer without a host", ana.Offline(), ana.Vault().Host())
	}
	mustSend(t, ctx, ana, task, "written offline")
	if ms := timelineAll(t, ana, task); ms[len(ms)-1].Text != "written offline" {
		t.Fatalf("offline timeline ends with %q", ms[len(ms)-1].Text)
	}
	code, err := ana.Invite(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	in, err := DecodeInvite(code)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeAddrs(in.Addrs); len(got) == 0 || !slices.EqualFunc(got, lastAddrs, ma.Multiaddr.Equal) {
		t.Errorf("offline invite carries %v, want the last run's %v", got, lastAddrs)
	}
	other := mustCreate(t, ctx, bob, "other")
	bobCode, err := bob.Invite(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	journal := ana.journal.Length()
	if _, err := ana.Join(ctx, bobCode); !errors.Is(err, ErrOffline) {
		t.Fatalf("offline Join: %v, want ErrOffline", err)
	}
	if n := ana.journal.Length(); n != journal {
		t.Errorf("offline Join wrote %d journal records", n-journal)
	}
	if _, err := ana.Task(other); !errors.Is(err, ErrNoTask) {
		t.Errorf("offline Join left task %s behind: %v", other, err)
	}
	if err := ana.Close(); err != nil {
		t.Fatal(err)
	}

	ana = openPeer(t, anaDir, "")
	waitFor := func() bool {
		for _, m := range timelineAll(t, bob, task) {
			if m.Text == "written offline" {
				return true
			}
		}
		return false
	}
	for !waitFor() {
		if ctx.Err() != nil {
			t.Fatal("bob never got the message ana wrote offline")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
