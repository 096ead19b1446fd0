package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/hypercore"
)

// hypercoreCommands is the help line of `folio hypercore`.
const hypercoreCommands = `  hypercore fetch|serve  replicate a book with a hypercore 11 peer over TCP
`

// HypercoreFetch is what `folio hypercore fetch --json` prints (other
// tooling reads these fields).
type HypercoreFetch struct {
	Key        string `json:"key"`
	Length     uint64 `json:"length"`
	ByteLength uint64 `json:"byte_length"`
	TreeHash   string `json:"tree_hash"`
	Verified   bool   `json:"verified"`
}

// HypercoreServe is the first line `folio hypercore serve --json` prints.
type HypercoreServe struct {
	Key    string `json:"key"`
	Length uint64 `json:"length"`
	Listen string `json:"listen"`
}

// hypercore runs `folio hypercore fetch KEY --connect HOST:PORT` and
// `folio hypercore serve BOOK --listen HOST:PORT`. It has its own flags:
// the shared --listen takes libp2p multiaddrs, here it is a TCP address.
func (c *cmd) hypercore(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "fetch" && args[0] != "serve") {
		return usagef("want hypercore fetch KEY --connect HOST:PORT, or hypercore serve BOOK --listen HOST:PORT")
	}
	sub := args[0]
	fs := flag.NewFlagSet("hypercore "+sub, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.dir, "dir", DefaultDir(), "vault directory ($FOLIO_DIR)")
	fs.BoolVar(&c.asJSON, "json", false, "print JSON")
	fs.DurationVar(&c.wait, "wait", defaultWait, "while another folio command holds the vault, wait this long for it")
	addr := ""
	timeout := fs.Duration("timeout", 0, "fetch: give up after this long (0: no limit)")
	if sub == "fetch" {
		fs.StringVar(&addr, "connect", "", "HOST:PORT of the hypercore peer (required)")
	} else {
		fs.StringVar(&addr, "listen", "", "HOST:PORT to accept hypercore peers on (required)")
	}
	fs.Usage = func() {
		if sub == "fetch" {
			fmt.Fprintf(c.stderr, "usage: folio hypercore fetch KEY --connect HOST:PORT [--json]\n\nflags:\n")
		} else {
			fmt.Fprintf(c.stderr, "usage: folio hypercore serve BOOK --listen HOST:PORT [--json]\n\nflags:\n")
		}
		fs.PrintDefaults()
	}
	c.fs = fs
	if err := c.parse(args[1:], 1, 1); err != nil {
		return err
	}
	if addr == "" {
		return usagef("--%s HOST:PORT is required", map[string]string{"fetch": "connect", "serve": "listen"}[sub])
	}
	if !vaultExists(c.dir) {
		return fmt.Errorf("no vault in %s: create one with folio init --dir %s (or set FOLIO_DIR)", c.dir, c.dir)
	}
	o, err := c.options()
	if err != nil {
		return err
	}
	p, _, err := c.openPeer(ctx, o, false)
	if err != nil {
		return err
	}
	defer p.Close()
	d := p.Vault().DB()
	if sub == "fetch" {
		if *timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *timeout)
			defer cancel()
		}
		return c.hypercoreFetch(ctx, d, c.arg(0), addr)
	}
	return c.hypercoreServe(ctx, d, c.arg(0), addr)
}

func parseKey(s string) (ed25519.PublicKey, error) {
	k, err := hex.DecodeString(s)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, usagef("KEY must be 64 hex digits (a compat-mode hypercore key)")
	}
	return ed25519.PublicKey(k), nil
}

func (c *cmd) hypercoreFetch(ctx context.Context, d *db.DB, keyArg, addr string) error {
	key, err := parseKey(keyArg)
	if err != nil {
		return err
	}
	b, err := d.OpenKey(ctx, key)
	if err != nil {
		return err
	}
	if b.Writable() {
		return fmt.Errorf("book %s is this vault's own: nothing to fetch", keyArg)
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	if err := hypercore.Fetch(ctx, conn, true, b, nil); err != nil {
		return err
	}
	h, signed := b.Head()
	held, err := b.Contiguous(0)
	if err != nil {
		return err
	}
	out := HypercoreFetch{Key: keyArg, Length: h.Length, ByteLength: h.ByteLength, TreeHash: hex.EncodeToString(h.TreeHash[:]),
		// Every page was verified before it was stored; this re-checks
		// the stored head's signature and that no page is missing.
		Verified: signed && h.Verify(key) == nil && held == h.Length}
	if c.asJSON {
		c.printJSONLine(out)
		return nil
	}
	fmt.Fprintf(c.stdout, "fetched %s: %d pages, %d bytes, tree hash %s, verified %v\n", out.Key, out.Length, out.ByteLength, out.TreeHash, out.Verified)
	return nil
}

// openServed finds a book of the vault by key (hex) or name; it never
// creates one.
func openServed(ctx context.Context, d *db.DB, arg string) (*book.Book, error) {
	if k, err := hex.DecodeString(arg); err == nil && len(k) == ed25519.PublicKeySize {
		if _, err := d.Info(k); err == nil {
			return d.OpenKey(ctx, k)
		}
	}
	in, err := d.LookupName(arg)
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return nil, fmt.Errorf("no book %q in this vault (give its name or key)", arg)
		}
		return nil, err
	}
	return d.OpenKey(ctx, in.Key)
}

func (c *cmd) hypercoreServe(ctx context.Context, d *db.DB, arg, addr string) error {
	b, err := openServed(ctx, d, arg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	out := HypercoreServe{Key: hex.EncodeToString(b.Key()), Length: b.Length(), Listen: ln.Addr().String()}
	if c.asJSON {
		c.printJSONLine(out)
	} else {
		fmt.Fprintf(c.stdout, "serving %s (%d pages) on %s\n", out.Key, out.Length, out.Listen)
	}
	err = hypercore.ServeListener(ctx, ln, b, nil, func(err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(c.stderr, "folio hypercore serve: %s: %s\n", time.Now().Format(time.TimeOnly), oneLine(err))
		}
	})
	if ctx.Err() != nil {
		return nil // SIGTERM or interrupt: a normal end
	}
	return err
}

// printJSONLine prints v as one line (tooling reads line by line).
func (c *cmd) printJSONLine(v any) {
	enc := json.NewEncoder(c.stdout)
	_ = enc.Encode(v)
}
