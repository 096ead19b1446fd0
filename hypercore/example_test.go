package hypercore_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore"
)

type silent struct{}

func (silent) Infof(string, ...any)      {}
func (silent) Errorf(string, ...any)     {}
func (silent) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

// openMem opens a book in an in-memory Pebble store.
func openMem(key ed25519.PublicKey, secret ed25519.PrivateKey) *book.Book {
	pdb, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: silent{}})
	if err != nil {
		panic(err)
	}
	b, err := book.Open(pdb, []byte("b"), key, secret, nil)
	if err != nil {
		panic(err)
	}
	return b
}

// A folio book served over hypercore's wire protocol, and fetched by key
// into a read-only book: what a Node hypercore reader or writer on the
// other end of the TCP connection would do too (the key is a compat-mode
// hypercore key).
func Example() {
	ctx := context.Background()
	pub, secret, _ := ed25519.GenerateKey(nil)
	author := openMem(pub, secret)
	author.Append(ctx, []byte("hello"), []byte("hypercore"))

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	go hypercore.ServeListener(serveCtx, ln, author, nil, nil)

	reader := openMem(pub, nil)
	conn, _ := net.Dial("tcp", ln.Addr().String())
	if err := hypercore.Fetch(ctx, conn, true, reader, nil); err != nil {
		fmt.Println(err)
		return
	}
	page, _ := reader.Get(ctx, 1, nil)
	fmt.Println(reader.Length(), string(page))
	// Output: 2 hypercore
}
