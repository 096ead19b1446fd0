//go:build unix

package peerstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	pstore "github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// A go-libp2p host built with libp2p.Peerstore(ps) connects to a second
// host on loopback; identify fills ps with the second host's addresses,
// protocols, key and agent (identify in v0.51 keeps no signed record). The same runs in a child process that is
// killed (SIGKILL) once its peerstore has flushed: the peerstore rebuilt
// from the journal holds the same.

const hostHelperEnv = "FOLIO_PEERSTORE_HOST_HELPER"

// newHost starts a host on 127.0.0.1 TCP only.
func newHost(t testing.TB, opts ...libp2p.Option) host.Host {
	t.Helper()
	h, err := libp2p.New(append([]libp2p.Option{
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.DisableRelay(),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// connectIdentified connects h to b and waits until identify has
// completed (it emits its event once everything is in the peerstore).
func connectIdentified(ctx context.Context, h host.Host, b peer.AddrInfo) error {
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted), eventbus.BufSize(16))
	if err != nil {
		return err
	}
	defer sub.Close()
	if err := h.Connect(ctx, b); err != nil {
		return err
	}
	for {
		select {
		case e := <-sub.Out():
			if e.(event.EvtPeerIdentificationCompleted).Peer == b.ID {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("identify did not complete: %w", ctx.Err())
		}
	}
}

// checkIdentified fails unless ps holds what identify learned of b.
func checkIdentified(t testing.TB, ps *Peerstore, b host.Host, what string) {
	t.Helper()
	addrs := ps.Addrs(b.ID())
	for _, a := range b.Addrs() {
		if !slices.ContainsFunc(addrs, a.Equal) {
			t.Errorf("%s: address %s of B missing: %v", what, a, addrs)
		}
	}
	protos, _ := ps.GetProtocols(b.ID())
	for _, p := range []protocol.ID{"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"} {
		if !slices.Contains(protos, p) {
			t.Errorf("%s: protocol %s of B missing: %v", what, p, protos)
		}
	}
	if pk := ps.PubKey(b.ID()); pk == nil || !pk.Equals(b.Peerstore().PubKey(b.ID())) {
		t.Errorf("%s: B's public key missing or wrong", what)
	}
	if d, _ := ps.GetPeer(b.ID(), BookPubKey); d.PubKey == nil {
		t.Errorf("%s: B's public key is not stored", what)
	}
	if av, err := ps.Get(b.ID(), "AgentVersion"); err != nil || av == "" {
		t.Errorf("%s: AgentVersion %v %v", what, av, err)
	}
	if _, err := ps.Get(b.ID(), "ProtocolVersion"); err != nil { // identify stores it, empty by default
		t.Errorf("%s: ProtocolVersion: %v", what, err)
	}
}

func TestHostIdentify(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d := openDB(t, "")
	defer d.Close()
	ps, err := Open(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	hb := newHost(t)
	defer hb.Close()
	ha := newHost(t, libp2p.Peerstore(ps))
	if err := connectIdentified(ctx, ha, peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()}); err != nil {
		t.Fatal(err)
	}
	checkIdentified(t, ps, hb, "live")
	auditOK(t, ps)
	// A clean shutdown: the host closes the peerstore (go-libp2p's
	// peerstore manager may first drop what it keeps of disconnected
	// peers, but never their addresses).
	if err := ha.Close(); err != nil {
		t.Fatal(err)
	}
	ps2 := openPS(t, d, nil)
	if addrs := ps2.Addrs(hb.ID()); len(addrs) == 0 {
		t.Errorf("after a clean restart: B's addresses missing")
	}
	if pk := ps2.PrivKey(ha.ID()); pk != nil {
		t.Errorf("A's private key came back from the journal")
	}
	auditOK(t, ps2)
}

func TestHostIdentifyKilled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hb := newHost(t)
	defer hb.Close()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHostHelper$", "-test.v")
	cmd.Env = append(os.Environ(), hostHelperEnv+"=1", "FOLIO_PEERSTORE_DIR="+dir,
		"FOLIO_PEERSTORE_PEER="+hb.ID().String(), "FOLIO_PEERSTORE_ADDR="+hb.Addrs()[0].String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	flushed := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERROR") {
			t.Fatal("child:", line)
		}
		if line == "FLUSHED" {
			flushed = true
			break
		}
	}
	if !flushed {
		t.Fatal("child ended before it flushed")
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	d := openDB(t, dir)
	defer d.Close()
	ps := openPS(t, d, nil)
	checkIdentified(t, ps, hb, "rebuilt after SIGKILL")
	// The child died connected: no connection holds those addresses now.
	for _, e := range mustPeer(t, ps, hb.ID()).Addrs {
		if e.TTL != pstore.RecentlyConnectedAddrTTL {
			t.Errorf("after SIGKILL: address %s has TTL %v, want the recently-connected TTL", e.Addr, e.TTL)
		}
	}
	auditOK(t, ps)
}

// TestHostHelper is the child of TestHostIdentifyKilled: it connects a host
// on a peerstore to the parent's host, waits for identify, flushes, says
// so, and waits to be killed.
func TestHostHelper(t *testing.T) {
	if os.Getenv(hostHelperEnv) == "" {
		t.Skip("helper process of TestHostIdentifyKilled")
	}
	fail := func(err error) {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := openDB(t, os.Getenv("FOLIO_PEERSTORE_DIR"))
	ps, err := Open(ctx, d, nil)
	if err != nil {
		fail(err)
	}
	pb, err := peer.Decode(os.Getenv("FOLIO_PEERSTORE_PEER"))
	if err != nil {
		fail(err)
	}
	ha := newHost(t, libp2p.Peerstore(ps))
	addr := ma.StringCast(os.Getenv("FOLIO_PEERSTORE_ADDR"))
	if err := connectIdentified(ctx, ha, peer.AddrInfo{ID: pb, Addrs: []ma.Multiaddr{addr}}); err != nil {
		fail(err)
	}
	if err := ps.Flush(ctx); err != nil {
		fail(err)
	}
	fmt.Println("FLUSHED")
	<-ctx.Done() // killed long before
	os.Exit(3)
}
