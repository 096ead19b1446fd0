package db

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/folio-p2p/folio/book"
)

// Every sentinel error of the package, each where the API promises it.

func TestErrClosedAfterClose(t *testing.T) {
	ctx := context.Background()
	d, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := d.Book(ctx, "w")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, []byte("a"), []byte("b")); err != nil {
		t.Fatal(err)
	}
	proof, err := w.Proof(book.ProofRequest{Page: &book.PageRequest{Index: 0}, Upgrade: &book.UpgradeRequest{}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.OpenKey(ctx, otherKey(1))
	if err != nil {
		t.Fatal(err)
	}
	key, dkey := w.Key(), w.DiscoveryKey()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v, want nil", err)
	}
	calls := map[string]func() error{
		"DB.Book":               func() error { _, err := d.Book(ctx, "w"); return err },
		"DB.Book new":           func() error { _, err := d.Book(ctx, "new"); return err },
		"DB.OpenKey":            func() error { _, err := d.OpenKey(ctx, key); return err },
		"DB.OpenKey unknown":    func() error { _, err := d.OpenKey(ctx, otherKey(2)); return err },
		"DB.Info":               func() error { _, err := d.Info(key); return err },
		"DB.LookupName":         func() error { _, err := d.LookupName("w"); return err },
		"DB.LookupDiscoveryKey": func() error { _, err := d.LookupDiscoveryKey(dkey); return err },
		"DB.Books":              func() error { _, err := d.Books(); return err },
		"DB.Metrics":            func() error { _, err := d.Metrics(); return err },
		"DB.DeleteBook":         func() error { return d.DeleteBook(ctx, key) },
		"DB.Clear":              func() error { return d.Clear(ctx, key, 0, 1) },
		"DB.Compact":            func() error { return d.Compact(ctx) },
		"Book.Append":           func() error { _, err := w.Append(ctx, []byte("c")); return err },
		"Book.AppendWith": func() error {
			_, err := w.AppendWith(ctx, book.AppendOptions{Sync: book.SyncOff}, []byte("c"))
			return err
		},
		"Book.Truncate":     func() error { return w.Truncate(ctx, 1) },
		"Book.Get":          func() error { _, err := w.Get(ctx, 0, nil); return err },
		"Book.Get missing":  func() error { _, err := w.Get(ctx, 5, nil); return err },
		"Book.Has":          func() error { _, err := w.Has(0); return err },
		"Book.Seek":         func() error { _, _, err := w.Seek(ctx, 0); return err },
		"Book.Snapshot":     func() error { _, err := w.Snapshot(); return err },
		"Book.Audit":        func() error { _, err := w.Audit(ctx); return err },
		"Book.Proof":        func() error { _, err := w.Proof(book.ProofRequest{Page: &book.PageRequest{Index: 0}}); return err },
		"Book.MissingNodes": func() error { _, err := r.MissingNodes(0); return err },
		"Book.Evidence":     func() error { _, err := r.Evidence(); return err },
		"Book.ApplyProof":   func() error { return r.ApplyProof(ctx, proof) },
		"Book.Clear":        func() error { return w.Clear(ctx, 0, 1) },
		"Book.Compact":      func() error { return w.Compact(ctx) },
		"Book.Wait":         func() error { return w.Wait(ctx, 10) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := callNoPanic(call)
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close: %v, want ErrClosed", name, err)
			}
		})
	}
	sub := w.Subscribe()
	select {
	case u, ok := <-sub.C:
		if ok {
			t.Errorf("subscription after Close delivered %+v, want a closed channel", u)
		}
	case <-time.After(5 * time.Second):
		t.Error("subscription after Close: channel not closed")
	}
}

// callNoPanic runs call and turns a panic (say, Pebble's "closed") into an
// error that matches no sentinel.
func callNoPanic(call func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic: " + strings.SplitN(strings.TrimSpace(fmtAny(r)), "\n", 2)[0])
		}
	}()
	return call()
}

func fmtAny(v any) string {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "non-error panic value"
}

// otherKey returns the public key of a book this DB does not write.
func otherKey(seed byte) ed25519.PublicKey {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s).Public().(ed25519.PublicKey)
}

func TestErrBadName(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t.TempDir(), nil)
	for name, bad := range map[string]string{
		"empty":     "",
		"too long":  strings.Repeat("x", maxNameLength+1),
		"not UTF-8": "caf\xe9",
	} {
		if _, err := d.Book(ctx, bad); !errors.Is(err, ErrBadName) {
			t.Errorf("Book(%s name): %v, want ErrBadName", name, err)
		}
	}
	if _, err := d.Book(ctx, strings.Repeat("x", maxNameLength)); err != nil {
		t.Errorf("Book(name of the largest size): %v", err)
	}
	if infos, err := d.Books(); err != nil || len(infos) != 1 {
		t.Errorf("catalogue after bad names: %d books, %v; want only the good one", len(infos), err)
	}
}

func TestErrNotFound(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t.TempDir(), nil)
	if _, err := d.Book(ctx, "known"); err != nil {
		t.Fatal(err)
	}
	unknown := otherKey(9)
	calls := map[string]func() error{
		"Info":                     func() error { _, err := d.Info(unknown); return err },
		"LookupName":               func() error { _, err := d.LookupName("unknown"); return err },
		"LookupDiscoveryKey":       func() error { _, err := d.LookupDiscoveryKey(book.DiscoveryKey(unknown)); return err },
		"DeleteBook":               func() error { return d.DeleteBook(ctx, unknown) },
		"Clear":                    func() error { return d.Clear(ctx, unknown, 0, 10) },
		"OpenKey of a 31-byte key": func() error { _, err := d.OpenKey(ctx, make([]byte, 31)); return err },
		"Get past the end (local)": func() error {
			b, _ := d.Book(ctx, "known")
			_, err := b.Get(ctx, 0, &book.GetOptions{LocalOnly: true})
			return err
		},
		"Proof of an unsigned book":  func() error { b, _ := d.Book(ctx, "known"); _, err := b.Proof(book.ProofRequest{}); return err },
		"Info by a discovery key":    func() error { k := book.DiscoveryKey(unknown); _, err := d.Info(k[:]); return err },
		"LookupName of a key's name": func() error { _, err := d.LookupName(string(unknown)); return err },
	}
	for name, call := range calls {
		if err := callNoPanic(call); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	// None of these added a book to the catalogue.
	if infos, err := d.Books(); err != nil || len(infos) != 1 {
		t.Errorf("catalogue after lookups of unknown books: %d books, %v; want 1", len(infos), err)
	}
	// A read-only open of a directory without a DB.
	if _, err := Open(t.TempDir(), &Options{ReadOnly: true}); !errors.Is(err, ErrNotFound) {
		t.Errorf("read-only Open of an empty directory: %v, want ErrNotFound", err)
	}
}

func TestErrReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := d.Book(ctx, "mine")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	r, err := d.OpenKey(ctx, otherKey(3))
	if err != nil {
		t.Fatal(err)
	}
	if r.Writable() {
		t.Fatal("a book opened by a key this DB does not derive is writable")
	}
	if _, err := r.Append(ctx, []byte("x")); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Append to a book opened by key: %v, want ErrReadOnly", err)
	}
	if _, err := r.AppendWith(ctx, book.AppendOptions{CheckLength: true}, []byte("x")); !errors.Is(err, ErrReadOnly) {
		t.Errorf("AppendWith to a book opened by key: %v, want ErrReadOnly", err)
	}
	if err := r.Truncate(ctx, 0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Truncate a book opened by key: %v, want ErrReadOnly", err)
	}
	if r.Length() != 0 {
		t.Errorf("refused appends changed the length to %d", r.Length())
	}
	// OpenKey of the DB's own book gives the writable book.
	own, err := d.OpenKey(ctx, w.Key())
	if err != nil || !own.Writable() {
		t.Errorf("OpenKey of a named book: writable %v, %v", own != nil && own.Writable(), err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// A DB opened read-only adds nothing and writes nothing.
	ro := openTest(t, dir, &Options{ReadOnly: true})
	if _, err := ro.Book(ctx, "new"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Book(new name) on a read-only DB: %v, want ErrReadOnly", err)
	}
	if _, err := ro.OpenKey(ctx, otherKey(4)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("OpenKey(unknown) on a read-only DB: %v, want ErrReadOnly", err)
	}
	b, err := ro.Book(ctx, "mine")
	if err != nil {
		t.Fatalf("Book(existing) on a read-only DB: %v", err)
	}
	if p, err := b.Get(ctx, 0, nil); err != nil || string(p) != "x" {
		t.Errorf("read-only DB: page 0 = %q, %v", p, err)
	}
	if _, err := b.Append(ctx, []byte("y")); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Append through a read-only DB: %v, want ErrReadOnly", err)
	}
	if err := b.Truncate(ctx, 0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Truncate through a read-only DB: %v, want ErrReadOnly", err)
	}
	if b.Length() != 1 {
		t.Errorf("read-only DB: length %d after refused writes, want 1", b.Length())
	}
}

func TestErrTooLarge(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, t.TempDir(), &Options{MaxPageSize: 100, MaxBatchPages: 3, MaxBatchBytes: 250})
	b, err := d.Book(ctx, "small")
	if err != nil {
		t.Fatal(err)
	}
	for name, pages := range map[string][][]byte{
		"page over MaxPageSize":    {make([]byte, 101)},
		"batch over MaxBatchPages": {{1}, {2}, {3}, {4}},
		"batch over MaxBatchBytes": {make([]byte, 100), make([]byte, 100), make([]byte, 51)},
	} {
		if _, err := b.Append(ctx, pages...); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", name, err)
		}
	}
	if b.Length() != 0 {
		t.Fatalf("refused appends wrote: length %d", b.Length())
	}
	if _, err := b.Append(ctx, make([]byte, 100), make([]byte, 100), make([]byte, 50)); err != nil {
		t.Fatalf("batch at every limit: %v", err)
	}
	auditClean(t, b)
}

func TestErrLockedInProcess(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, &Options{ReadOnly: true}); !errors.Is(err, ErrLocked) {
		t.Errorf("read-only open of an open DB: %v, want ErrLocked", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(dir, nil) // the lock went with Close
	if err != nil {
		t.Fatalf("open after Close: %v", err)
	}
	d2.Close()
}
