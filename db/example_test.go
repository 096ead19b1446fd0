package db_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"slices"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
)

// tempDir returns a fresh directory for an example, and its cleanup.
func tempDir() (string, func()) {
	dir, err := os.MkdirTemp("", "folio-example-")
	if err != nil {
		log.Fatal(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

// Open a DB, write to a named book, and find it again after a restart.
func ExampleOpen() {
	dir, cleanup := tempDir()
	defer cleanup()
	ctx := context.Background()

	d, err := db.Open(dir, nil) // nil: default options, synced appends
	if err != nil {
		log.Fatal(err)
	}
	chat, err := d.Book(ctx, "chat")
	if err != nil {
		log.Fatal(err)
	}
	res, err := chat.Append(ctx, []byte("hello"), []byte("world"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("appended: length", res.Length, "bytes", res.ByteLength)
	key := chat.Key()
	if err := d.Close(); err != nil {
		log.Fatal(err)
	}

	d, err = db.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	chat, err = d.Book(ctx, "chat") // the same name is the same book
	if err != nil {
		log.Fatal(err)
	}
	page, err := chat.Get(ctx, 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after restart: same key", chat.Key().Equal(key), "length", chat.Length(), "page 1", string(page))
	// Output:
	// appended: length 2 bytes 10
	// after restart: same key true length 2 page 1 world
}

// A named book is writable; its keypair derives from the DB's primary key
// and the name, so no secret key is ever stored.
func ExampleDB_Book() {
	dir, cleanup := tempDir()
	defer cleanup()
	ctx := context.Background()
	d, err := db.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()

	a, _ := d.Book(ctx, "journal")
	b, _ := d.Book(ctx, "journal")
	c, _ := d.Book(ctx, "photos")
	fmt.Println("writable:", a.Writable())
	fmt.Println("same name, same key:", a.Key().Equal(b.Key()))
	fmt.Println("other name, other key:", a.Key().Equal(c.Key()))
	_, err = d.Book(ctx, "")
	fmt.Println("empty name refused:", errors.Is(err, db.ErrBadName))
	// Output:
	// writable: true
	// same name, same key: true
	// other name, other key: false
	// empty name refused: true
}

// A book opened by key alone is read-only: it grows only by pages that
// arrive with a valid proof, here built by the author's DB.
func ExampleDB_OpenKey() {
	ctx := context.Background()
	authorDir, cleanupA := tempDir()
	defer cleanupA()
	readerDir, cleanupR := tempDir()
	defer cleanupR()
	author, err := db.Open(authorDir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer author.Close()
	reader, err := db.Open(readerDir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer reader.Close()

	chat, _ := author.Book(ctx, "chat")
	chat.Append(ctx, []byte("first"), []byte("second"))

	mirror, err := reader.OpenKey(ctx, chat.Key())
	if err != nil {
		log.Fatal(err)
	}
	_, err = mirror.Append(ctx, []byte("forged"))
	fmt.Println("writable:", mirror.Writable(), "append refused:", errors.Is(err, db.ErrReadOnly))

	proof, err := chat.Proof(book.ProofRequest{Page: &book.PageRequest{Index: 1}, Upgrade: &book.UpgradeRequest{}})
	if err != nil {
		log.Fatal(err)
	}
	if err := mirror.ApplyProof(ctx, proof); err != nil {
		log.Fatal(err)
	}
	page, _ := mirror.Get(ctx, 1, nil)
	has0, _ := mirror.Has(0)
	fmt.Println("verified length", mirror.Length(), "page 1", string(page), "has page 0", has0)
	// Output:
	// writable: false append refused: true
	// verified length 2 page 1 second has page 0 false
}

// The catalogue lists every book; named books are found by name.
func ExampleDB_Books() {
	dir, cleanup := tempDir()
	defer cleanup()
	ctx := context.Background()
	d, err := db.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"chat", "journal"} {
		if _, err := d.Book(ctx, name); err != nil {
			log.Fatal(err)
		}
	}
	stranger := make([]byte, 32) // someone else's book, known by key
	stranger[0] = 1
	if _, err := d.OpenKey(ctx, stranger); err != nil {
		log.Fatal(err)
	}

	infos, err := d.Books()
	if err != nil {
		log.Fatal(err)
	}
	var lines []string
	for _, in := range infos {
		name := in.Name
		if name == "" {
			name = fmt.Sprintf("(key %x…)", in.Key[:2])
		}
		lines = append(lines, fmt.Sprintf("%s writable=%v", name, in.Writable))
	}
	slices.Sort(lines) // Books lists in key order
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// (key 0100…) writable=false
	// chat writable=true
	// journal writable=true
}

func ExampleDB_LookupName() {
	dir, cleanup := tempDir()
	defer cleanup()
	ctx := context.Background()
	d, err := db.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	chat, _ := d.Book(ctx, "chat")

	in, err := d.LookupName("chat")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(in.Name, in.Writable, in.Key.Equal(chat.Key()), in.DiscoveryKey == chat.DiscoveryKey())
	_, err = d.LookupName("nobody")
	fmt.Println("unknown name:", errors.Is(err, db.ErrNotFound))
	// Output:
	// chat true true true
	// unknown name: true
}
