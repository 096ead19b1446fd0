package cli

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/devtools"
	folioio "github.com/folio-p2p/folio/io"
	folioPeer "github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

func (c *cmd) runDaemon(ctx context.Context, args []string) error {
	fs := c.flags("run [--dir D] [--http 127.0.0.1:PORT] [--listen ADDRS] [--bootstrap ADDRS] [--no-mdns] [--no-dht]")
	httpAddr := fs.String("http", "", "also serve the API on this loopback TCP address")
	if err := c.parse(args, 0, 0); err != nil {
		return err
	}
	if !vaultExists(c.dir) {
		return fmt.Errorf("no vault in %s: create one with folio init --dir %s (or set FOLIO_DIR)", c.dir, c.dir)
	}
	o, err := c.options()
	if err != nil {
		return err
	}
	hub := &hub{subs: map[chan devtools.Event]struct{}{}}
	o.Vault.Listener = hub.listener()
	p, err := folioPeer.Open(ctx, c.dir, o)
	if err != nil {
		return err
	}
	env := &devtools.Env{Dir: c.dir, DB: p.Vault().DB(), Peerstore: p.Vault().Peerstore(), Vault: p.Vault(), Peer: p, Events: hub.subscribe}
	srv := NewServer(p, c.dir, c.cfg.Inspector, env)
	sock, err := srv.ListenUnix(ctx)
	if err != nil {
		p.Close()
		return err
	}
	if *httpAddr != "" {
		addr, err := srv.ListenTCP(*httpAddr)
		if err != nil {
			srv.Close()
			p.Close()
			return err
		}
		fmt.Fprintf(c.stdout, "API on http://%s\n", addr)
	}
	fmt.Fprintf(c.stdout, "folio peer %s running\nAPI on %s\n", p.ID(), sock)
	for _, a := range p.Vault().Host().Addrs() {
		fmt.Fprintf(c.stdout, "listening on %s/p2p/%s\n", a, p.ID())
	}
	<-ctx.Done()
	fmt.Fprintf(c.stdout, "stopping\n")
	srv.Close()
	return p.Close()
}

// hub fans the vault's events out to the inspector's watchers.
type hub struct {
	mu   sync.Mutex
	subs map[chan devtools.Event]struct{}
}

func (h *hub) publish(e devtools.Event) {
	e.Time = time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- e:
		default: // a slow watcher misses events rather than stalling the peer
		}
	}
}

func (h *hub) subscribe() (<-chan devtools.Event, func()) {
	c := make(chan devtools.Event, 256)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return c, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, c)
			h.mu.Unlock()
			close(c)
		})
	}
}

func (h *hub) listener() *vault.EventListener {
	return &vault.EventListener{
		Handshaken: func(hs folioio.Handshake) {
			h.publish(devtools.Event{Kind: "handshake", Peer: hs.Remote.String(),
				Detail: fmt.Sprintf("%d shared books, %d introduced, %d topics", len(hs.Shared), len(hs.Introduced), len(hs.Topics))})
		},
		SessionStarted: func(p peer.ID) { h.publish(devtools.Event{Kind: "session-start", Peer: p.String()}) },
		SessionClosed: func(p peer.ID, err error) {
			e := devtools.Event{Kind: "session-end", Peer: p.String()}
			if err != nil {
				e.Detail = err.Error()
			}
			h.publish(e)
		},
		Disconnected: func(p peer.ID) { h.publish(devtools.Event{Kind: "disconnect", Peer: p.String()}) },
		Error:        func(err error) { h.publish(devtools.Event{Kind: "peer-error", Detail: err.Error()}) },
	}
}
