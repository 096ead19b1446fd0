package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/devtools"
)

func (c *cmd) runDaemon(ctx context.Context, args []string) error {
	fs := c.flags("run [--dir D] [--http 127.0.0.1:PORT] [--listen ADDRS] [--bootstrap ADDRS] [--no-mdns] [--no-dht] [--quiet]", fNet)
	httpAddr := fs.String("http", "", "also serve the API on this loopback TCP address (127.0.0.1:PORT); requests need the token in <vault>/"+api.TokenName)
	quiet := fs.Bool("quiet", false, "say nothing after start-up (peers met, messages arriving, catch-up done)")
	if err := c.parse(args, 0, 0); err != nil {
		return err
	}
	if *httpAddr != "" {
		if _, err := loopbackListen(*httpAddr); err != nil {
			return usagef("--http: %v", err)
		}
	}
	if !vaultExists(c.dir) {
		return fmt.Errorf("no vault in %s: create one with folio init --dir %s (or set FOLIO_DIR)", c.dir, c.dir)
	}
	c.online = true
	o, err := c.options()
	if err != nil {
		return err
	}
	// The inspector's watch sees handshakes, sessions, errors and rejected
	// proofs through the hub.
	hub := devtools.NewEventHub()
	var rl *runLog
	if !*quiet {
		rl = newRunLog(c.stdout)
		o.Vault.Listener = hub.VaultListener(rl.listener())
	} else {
		o.Vault.Listener = hub.VaultListener(nil)
	}
	o.Vault.DB = &db.Options{EventListener: hub.BookListener(nil)}
	p, _, err := c.openPeer(ctx, o, false)
	if err != nil {
		return err
	}
	env := &devtools.Env{Dir: c.dir, DB: p.Vault().DB(), Peerstore: p.Vault().Peerstore(), Vault: p.Vault(), Peer: p, Events: hub.Subscribe}
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
		// The token's path, not the token: output ends up in logs.
		fmt.Fprintf(c.stdout, "API on http://%s (and the web app: folio open --dir %s signs you in; the API wants Authorization: Bearer <the token in %s>)\n", addr, c.dir, filepath.Join(c.dir, api.TokenName))
	}
	fmt.Fprintf(c.stdout, "folio peer %s running\nAPI on %s\n", p.ID(), sock)
	for _, a := range p.Vault().Host().Addrs() {
		fmt.Fprintf(c.stdout, "listening on %s/p2p/%s\n", a, p.ID())
	}
	if rl != nil {
		lctx, stop := context.WithCancel(ctx)
		defer stop()
		go rl.run(lctx, p)
	}
	<-ctx.Done()
	fmt.Fprintf(c.stdout, "stopping\n")
	srv.Close()
	return p.Close()
}
