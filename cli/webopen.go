package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"github.com/folio-p2p/folio/api"
)

// webOpen is `folio open`: the web app of the running peer, in the
// owner's browser, signed in. The login URL carries the API token once,
// in its fragment (see webapp.go); --print-url prints it instead.
func (c *cmd) webOpen(ctx context.Context, args []string) error {
	fs := c.flags("open [--print-url]", 0)
	printURL := fs.Bool("print-url", false, "print the login URL instead of opening a browser (it signs in whoever opens it: keep it to yourself)")
	if err := c.parse(args, 0, 0); err != nil {
		return err
	}
	u, err := loginURL(ctx, c.dir)
	if err != nil {
		return err
	}
	if *printURL {
		fmt.Fprintln(c.stdout, u)
		return nil
	}
	if err := browse(u); err != nil {
		return fmt.Errorf("could not start a browser (%v): run folio open --print-url and open the address it prints", err)
	}
	fmt.Fprintln(c.stdout, "opened the web app in your browser")
	return nil
}

// loginURL asks the running peer where it serves the web app.
func loginURL(ctx context.Context, dir string) (string, error) {
	if !vaultExists(dir) {
		return "", fmt.Errorf("no vault in %s: create one with folio init --dir %s (or set FOLIO_DIR)", dir, dir)
	}
	cl, err := api.Dial(ctx, dir)
	if errors.Is(err, api.ErrNoDaemon) {
		return "", fmt.Errorf("no folio run for %s: start it with folio run --dir %s --http 127.0.0.1:8080", dir, dir)
	}
	if err != nil {
		return "", err
	}
	id, err := cl.ID(ctx)
	if err != nil {
		return "", err
	}
	if id.HTTP == "" {
		return "", fmt.Errorf("folio run serves no web app for %s: restart it with --http 127.0.0.1:8080", dir)
	}
	tok, err := api.ReadToken(dir)
	if err != nil {
		return "", err
	}
	return "http://" + id.HTTP + "/#token=" + tok, nil
}

// browse opens u in the owner's browser: $BROWSER, else the system's
// opener.
func browse(u string) error {
	name := os.Getenv("BROWSER")
	switch {
	case name != "":
	case runtime.GOOS == "darwin":
		name = "open"
	case runtime.GOOS == "windows":
		return exec.Command("rundll32", "url.dll,FileProtocolHandler", u).Start()
	default:
		name = "xdg-open"
	}
	cmd := exec.Command(name, u)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
