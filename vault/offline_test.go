package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	folioio "github.com/folio-p2p/folio/io"
)

// sockets lists this process's open sockets ("socket:[inode]").
func sockets(t *testing.T) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			out = append(out, l)
		}
	}
	return out
}

// TestOffline: an Offline vault opens no socket at all (nothing listens,
// nothing is sent), works on its books, refuses what needs the network
// with ErrOffline, and keeps the addresses the last online run recorded.
func TestOffline(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts sockets through /proc/self/fd")
	}
	ctx := context.Background()
	dir := t.TempDir()
	v := openVault(t, dir, testOptions("ana"))
	recorded := v.Addrs()
	if len(recorded) == 0 || !slices.EqualFunc(recorded, v.Host().Addrs(), ma.Multiaddr.Equal) {
		t.Fatalf("online Addrs %v, want the host's %v", recorded, v.Host().Addrs())
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}

	before := sockets(t)
	o := testOptions("")
	o.Offline = true
	// Loopback, no mDNS, no DHT: were the network to start by mistake, it
	// would still send nothing beyond loopback; its sockets show it.
	v = openVault(t, dir, o)
	for _, s := range sockets(t) {
		if !slices.Contains(before, s) {
			t.Errorf("the offline vault opened %s", s)
		}
	}
	if !v.Offline() || v.Host() != nil || v.Swarm() != nil {
		t.Fatalf("Offline %v, Host %v, Swarm %v: want true, nil, nil", v.Offline(), v.Host(), v.Swarm())
	}
	if got := v.AddrInfo().Addrs; !slices.EqualFunc(got, recorded, ma.Multiaddr.Equal) {
		t.Errorf("offline addrs %v, want those recorded online %v", got, recorded)
	}
	if err := v.Connect(v.AddrInfo()); !errors.Is(err, ErrOffline) {
		t.Errorf("Connect: %v, want ErrOffline", err)
	}
	b, err := v.DB().Book(ctx, "notes")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, []byte("written offline")); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Introduce(ctx, v.ID(), folioio.Introduction{Key: b.Key()}); !errors.Is(err, ErrOffline) {
		t.Errorf("Introduce: %v, want ErrOffline", err)
	}
	if err := v.SetProfile(ctx, "ana offline", "away"); err != nil {
		t.Fatal(err)
	}
	p, _, err := v.Profile(ctx)
	if err != nil || p.Name != "ana offline" || !slices.EqualFunc(p.Addrs, recorded, ma.Multiaddr.Equal) {
		t.Fatalf("profile after an offline SetProfile: %+v, %v; want the new name and the recorded addrs", p, err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestOfflineNew: a vault created offline has a profile with its name and
// no addresses.
func TestOfflineNew(t *testing.T) {
	o := testOptions("cleo")
	o.Offline = true
	v := openVault(t, t.TempDir(), o)
	p, _, err := v.Profile(context.Background())
	if err != nil || p.Name != "cleo" || len(p.Addrs) != 0 || len(v.Addrs()) != 0 {
		t.Fatalf("profile %+v, %v, Addrs %v: want cleo and no addresses", p, err, v.Addrs())
	}
}
