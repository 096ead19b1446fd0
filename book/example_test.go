package book_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/cockroachdb/pebble/v2"

	"github.com/folio-p2p/folio/book"
)

type silent struct{}

func (silent) Infof(string, ...any)  {}
func (silent) Errorf(string, ...any) {}
func (silent) Fatalf(format string, args ...any) {
	log.Fatalf(format, args...)
}

// openPebble opens a Pebble in a temporary directory; cleanup removes it.
// A real application opens one Pebble for all its books (package db does).
func openPebble() (pdb *pebble.DB, cleanup func()) {
	dir, err := os.MkdirTemp("", "folio-book-example")
	if err != nil {
		log.Fatal(err)
	}
	pdb, err = pebble.Open(dir, &pebble.Options{Logger: silent{}})
	if err != nil {
		log.Fatal(err)
	}
	return pdb, func() { pdb.Close(); os.RemoveAll(dir) }
}

// Open a writable book, append a batch of pages and read one back.
func ExampleOpen() {
	ctx := context.Background()
	pdb, done := openPebble()
	defer done()

	public, secret, _ := ed25519.GenerateKey(nil)
	b, err := book.Open(pdb, []byte("chat/"), public, secret, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	res, err := b.Append(ctx, []byte("hello"), []byte("world"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("length", res.Length, "bytes", res.ByteLength)

	page, err := b.Get(ctx, 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("page 1: %s\n", page)

	_, err = b.Get(ctx, 2, &book.GetOptions{LocalOnly: true})
	fmt.Println("page 2 not found:", errors.Is(err, book.ErrNotFound))
	// Output:
	// length 2 bytes 10
	// page 1: world
	// page 2 not found: true
}

// A read-only book (key only) grows by proofs built by the author, or by
// any peer that holds the pages: the author's signature travels with them.
func ExampleBook_ApplyProof() {
	ctx := context.Background()
	pdb, done := openPebble()
	defer done()

	public, secret, _ := ed25519.GenerateKey(nil)
	author, _ := book.Open(pdb, []byte("a/"), public, secret, nil)
	defer author.Close()
	author.Append(ctx, []byte("one"), []byte("two"), []byte("three"))

	reader, _ := book.Open(pdb, []byte("r/"), public, nil, nil)
	defer reader.Close()

	// The reader asks for page 1 and the head newer than its length.
	proof, err := author.Proof(book.ProofRequest{
		Page:    &book.PageRequest{Index: 1},
		Upgrade: &book.UpgradeRequest{Start: reader.Length()},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := reader.ApplyProof(ctx, proof); err != nil {
		log.Fatal(err)
	}
	has0, _ := reader.Has(0)
	has1, _ := reader.Has(1)
	page, _ := reader.Get(ctx, 1, &book.GetOptions{LocalOnly: true})
	fmt.Println("length", reader.Length(), "has 0:", has0, "has 1:", has1)
	fmt.Printf("page 1: %s\n", page)

	// A proof that was tampered with is refused and changes nothing.
	bad, _ := author.Proof(book.ProofRequest{Page: &book.PageRequest{Index: 2}})
	bad.Page.Value = []byte("THREE")
	err = reader.ApplyProof(ctx, bad)
	has2, _ := reader.Has(2)
	fmt.Println("refused:", errors.Is(err, book.ErrVerify), "has 2:", has2)
	// Output:
	// length 3 has 0: false has 1: true
	// page 1: two
	// refused: true has 2: false
}

// Subscribers learn of every change; a slow one finds the newest state
// waiting and never holds the writer up.
func ExampleBook_Subscribe() {
	ctx := context.Background()
	pdb, done := openPebble()
	defer done()

	public, secret, _ := ed25519.GenerateKey(nil)
	b, _ := book.Open(pdb, []byte("b/"), public, secret, &book.Options{NoSync: true})

	sub := b.Subscribe()
	defer sub.Close()

	b.Append(ctx, []byte("a"))
	fmt.Println("update: length", (<-sub.C).Length)

	for i := 0; i < 100; i++ { // nobody reads meanwhile
		b.Append(ctx, []byte("b"))
	}
	fmt.Println("update: length", (<-sub.C).Length)

	// Wait blocks until a length is reached.
	go b.Append(ctx, []byte("c"))
	if err := b.Wait(ctx, 102); err != nil {
		log.Fatal(err)
	}
	fmt.Println("waited for length", b.Length())

	b.Close()
	for range sub.C { // drain: C closes with the book
	}
	fmt.Println("closed")
	// Output:
	// update: length 1
	// update: length 101
	// waited for length 102
	// closed
}

// Truncate cuts the book in a new fork; readers follow the signed head.
func ExampleBook_Truncate() {
	ctx := context.Background()
	pdb, done := openPebble()
	defer done()

	public, secret, _ := ed25519.GenerateKey(nil)
	b, _ := book.Open(pdb, []byte("b/"), public, secret, nil)
	defer b.Close()
	b.Append(ctx, []byte("keep"), []byte("drop"), []byte("drop"))

	if err := b.Truncate(ctx, 1); err != nil {
		log.Fatal(err)
	}
	b.Append(ctx, []byte("new"))
	page, _ := b.Get(ctx, 1, nil)
	fmt.Printf("length %d fork %d page 1: %s\n", b.Length(), b.Fork(), page)

	report, _ := b.Audit(ctx)
	fmt.Println("audit ok:", report.OK())
	// Output:
	// length 2 fork 1 page 1: new
	// audit ok: true
}

// Seek finds the page that holds a byte offset.
func ExampleBook_Seek() {
	ctx := context.Background()
	pdb, done := openPebble()
	defer done()

	public, secret, _ := ed25519.GenerateKey(nil)
	b, _ := book.Open(pdb, []byte("b/"), public, secret, nil)
	defer b.Close()
	b.Append(ctx, []byte("abc"), nil, []byte("defg"))

	page, rel, _ := b.Seek(ctx, 4)
	fmt.Println("byte 4 is byte", rel, "of page", page)
	_, _, err := b.Seek(ctx, 7)
	fmt.Println("past the end:", errors.Is(err, book.ErrOutOfRange))
	// Output:
	// byte 4 is byte 1 of page 2
	// past the end: true
}
