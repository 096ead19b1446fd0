package db

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/folio-p2p/folio/book"
)

var (
	modelSeed  = flag.Int64("model.seed", 0, "seed of TestModel (0: from FOLIO_MODEL_SEED or the clock)")
	modelSteps = flag.Int("model.steps", 0, "steps of TestModel (0: the default)")
)

// mBook is the model of one book: its pages, which of them were cleared,
// and its fork.
type mBook struct {
	name    string // "" for a book opened by key only (read-only)
	key     ed25519.PublicKey
	pages   [][]byte
	cleared []bool
	fork    uint64
	handle  *book.Book // the last handle the DB gave for it
}

func (m *mBook) byteLength(n int) uint64 {
	var s uint64
	for _, p := range m.pages[:n] {
		s += uint64(len(p))
	}
	return s
}

// modelRun drives the DB on disk and the model with the same operations.
type modelRun struct {
	t     *testing.T
	ctx   context.Context
	rng   *rand.Rand
	dir   string
	d     *DB
	books []*mBook // in creation order, so the run is deterministic
	names []string
	step  int
	log   []string // the operations so far, printed on failure
}

func TestModel(t *testing.T) {
	seed := testSeed(t, "FOLIO_MODEL_SEED", *modelSeed)
	steps := 400
	if testing.Short() {
		steps = 150
	}
	if *modelSteps > 0 {
		steps = *modelSteps
	}
	r := &modelRun{
		t: t, ctx: context.Background(), rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		dir:   t.TempDir(),
		names: []string{"chat", "journal", "a", "ünïcode ✓", strings.Repeat("n", maxNameLength)},
	}
	r.d = r.open()
	defer func() {
		if t.Failed() {
			t.Logf("operations:\n%s", strings.Join(r.log, "\n"))
		}
		r.d.Close()
	}()
	ops := []struct {
		weight int
		do     func()
	}{
		{10, r.openName}, {4, r.openByKey}, {2, r.openForeign},
		{30, r.append}, {3, r.appendWrongLength}, {6, r.truncate},
		{5, r.clear}, {10, r.get}, {3, r.reopen}, {1, r.deleteBook}, {2, r.auditOne},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	for r.step = 0; r.step < steps && !t.Failed(); r.step++ {
		n := r.rng.IntN(total)
		for _, o := range ops {
			if n -= o.weight; n < 0 {
				o.do()
				break
			}
		}
		r.compare()
	}
	r.reopen()
	r.compare()
	auditAll(t, r.d)
	pages := 0
	for _, m := range r.books {
		pages += len(m.pages)
	}
	t.Logf("%d steps, %d books, %d pages at the end", steps, len(r.books), pages)
}

func (r *modelRun) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf("%4d: ", r.step)+fmt.Sprintf(format, args...))
}

func (r *modelRun) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("step %d: %s", r.step, fmt.Sprintf(format, args...))
}

func (r *modelRun) open() *DB {
	d, err := Open(r.dir, &Options{MemTableSize: 256 << 10}) // small: flushes happen
	if err != nil {
		r.fatalf("open: %v", err)
	}
	return d
}

func (r *modelRun) find(key ed25519.PublicKey) *mBook {
	for _, m := range r.books {
		if m.key.Equal(key) {
			return m
		}
	}
	return nil
}

// pick returns a random model book, writable only if writable is set.
func (r *modelRun) pick(writable bool) *mBook {
	var c []*mBook
	for _, m := range r.books {
		if !writable || m.name != "" {
			c = append(c, m)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[r.rng.IntN(len(c))]
}

// handle returns the DB's handle of m, checking it is the right book.
func (r *modelRun) handle(m *mBook) *book.Book {
	r.t.Helper()
	b, err := r.d.OpenKey(r.ctx, m.key)
	if err != nil {
		r.fatalf("OpenKey %s: %v", m.label(), err)
	}
	if !b.Key().Equal(m.key) || b.Writable() != (m.name != "") {
		r.fatalf("OpenKey %s: key %x writable %v", m.label(), b.Key()[:8], b.Writable())
	}
	m.handle = b
	return b
}

func (m *mBook) label() string {
	if m.name != "" {
		if len(m.name) > 16 {
			return m.name[:16] + "…"
		}
		return m.name
	}
	return fmt.Sprintf("key:%x", m.key[:4])
}

func (r *modelRun) openName() {
	name := r.names[r.rng.IntN(len(r.names))]
	r.logf("Book(%.16q)", name)
	b, err := r.d.Book(r.ctx, name)
	if err != nil {
		r.fatalf("Book(%q): %v", name, err)
	}
	if !b.Writable() {
		r.fatalf("Book(%q) is not writable", name)
	}
	for _, m := range r.books {
		if m.name == name {
			if !m.key.Equal(b.Key()) {
				r.fatalf("Book(%q) changed key: %x, was %x", name, b.Key()[:8], m.key[:8])
			}
			m.handle = b
			return
		}
	}
	// A name used before (and deleted) must give the same key again.
	if want := deriveKeypair(r.d.primary, name).Public().(ed25519.PublicKey); !want.Equal(b.Key()) {
		r.fatalf("Book(%q) key %x, derivation gives %x", name, b.Key()[:8], want[:8])
	}
	r.books = append(r.books, &mBook{name: name, key: b.Key(), handle: b})
}

func (r *modelRun) openByKey() {
	m := r.pick(false)
	if m == nil {
		return
	}
	r.logf("OpenKey(%s)", m.label())
	r.handle(m)
}

func (r *modelRun) openForeign() {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(r.rng.Uint32())
	}
	key := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	m := &mBook{key: key}
	r.logf("OpenKey(foreign %s)", m.label())
	r.books = append(r.books, m)
	b := r.handle(m)
	if _, err := b.Append(r.ctx, []byte("x")); !errors.Is(err, ErrReadOnly) {
		r.fatalf("append to a book opened by key: %v, want ErrReadOnly", err)
	}
	if err := b.Truncate(r.ctx, 0); !errors.Is(err, ErrReadOnly) {
		r.fatalf("truncate a book opened by key: %v, want ErrReadOnly", err)
	}
}

// randomPages returns a batch of 0 to 8 pages of varied sizes.
func (r *modelRun) randomPages() [][]byte {
	n := r.rng.IntN(9)
	if r.rng.IntN(10) == 0 {
		n = 0
	}
	pages := make([][]byte, n)
	for i := range pages {
		var size int
		switch k := r.rng.IntN(20); {
		case k == 0:
			size = 0
		case k == 1:
			size = 10_000 + r.rng.IntN(60_000)
		default:
			size = r.rng.IntN(300)
		}
		p := make([]byte, size)
		for j := range p {
			p[j] = byte(r.rng.Uint32())
		}
		pages[i] = p
	}
	return pages
}

func (r *modelRun) append() {
	m := r.pick(true)
	if m == nil {
		return
	}
	pages := r.randomPages()
	mode := []book.SyncMode{book.SyncDefault, book.SyncOn, book.SyncOff}[r.rng.IntN(3)]
	r.logf("Append(%s, %d pages, sync mode %d)", m.label(), len(pages), mode)
	b := r.handle(m)
	res, err := b.AppendWith(r.ctx, book.AppendOptions{Sync: mode, CheckLength: r.rng.IntN(2) == 0, ExpectedLength: uint64(len(m.pages))}, pages...)
	if err != nil {
		r.fatalf("append: %v", err)
	}
	m.pages = append(m.pages, pages...)
	m.cleared = append(m.cleared, make([]bool, len(pages))...)
	if res.Length != uint64(len(m.pages)) || res.ByteLength != m.byteLength(len(m.pages)) {
		r.fatalf("append returned %+v, model has %d pages of %d bytes", res, len(m.pages), m.byteLength(len(m.pages)))
	}
}

func (r *modelRun) appendWrongLength() {
	m := r.pick(true)
	if m == nil {
		return
	}
	wrong := uint64(len(m.pages)) + 1 + uint64(r.rng.IntN(3))
	r.logf("AppendWith(%s, expected length %d)", m.label(), wrong)
	_, err := r.handle(m).AppendWith(r.ctx, book.AppendOptions{CheckLength: true, ExpectedLength: wrong}, []byte("never"))
	if !errors.Is(err, book.ErrLengthChanged) {
		r.fatalf("append with expected length %d at %d: %v, want ErrLengthChanged", wrong, len(m.pages), err)
	}
}

func (r *modelRun) truncate() {
	m := r.pick(true)
	if m == nil {
		return
	}
	b := r.handle(m)
	if r.rng.IntN(8) == 0 {
		r.logf("Truncate(%s, %d) past the end", m.label(), len(m.pages)+1)
		if err := b.Truncate(r.ctx, uint64(len(m.pages))+1); !errors.Is(err, book.ErrOutOfRange) {
			r.fatalf("truncate past the end: %v, want ErrOutOfRange", err)
		}
		return
	}
	n := len(m.pages) // a quarter of the time: same length, new fork
	switch r.rng.IntN(4) {
	case 0:
		n = r.rng.IntN(n + 1)
	case 1, 2:
		n -= r.rng.IntN(min(n, 5) + 1)
	}
	r.logf("Truncate(%s, %d) from %d", m.label(), n, len(m.pages))
	if err := b.Truncate(r.ctx, uint64(n)); err != nil {
		r.fatalf("truncate: %v", err)
	}
	m.pages, m.cleared = m.pages[:n], m.cleared[:n]
	m.fork++
}

func (r *modelRun) clear() {
	m := r.pick(true)
	if m == nil {
		return
	}
	n := len(m.pages)
	start := r.rng.IntN(n + 2)
	end := start + r.rng.IntN(n+3-start)
	r.logf("Clear(%s, %d, %d) of %d", m.label(), start, end, n)
	if err := r.d.Clear(r.ctx, m.key, uint64(start), uint64(end)); err != nil {
		r.fatalf("clear: %v", err)
	}
	for i := start; i < min(end, n); i++ {
		m.cleared[i] = true
	}
}

func (r *modelRun) get() {
	m := r.pick(false)
	if m == nil {
		return
	}
	i := r.rng.IntN(len(m.pages) + 2)
	r.logf("Get(%s, %d)", m.label(), i)
	r.checkPage(r.handle(m), m, i)
}

// checkPage compares page i of b with the model, through Get and Has.
func (r *modelRun) checkPage(b *book.Book, m *mBook, i int) {
	r.t.Helper()
	want := i < len(m.pages) && !m.cleared[i]
	has, err := b.Has(uint64(i))
	if err != nil || has != want {
		r.fatalf("%s: Has(%d) = %v, %v; want %v", m.label(), i, has, err, want)
	}
	p, err := b.Get(r.ctx, uint64(i), &book.GetOptions{LocalOnly: true})
	switch {
	case want && err != nil:
		r.fatalf("%s: Get(%d): %v", m.label(), i, err)
	case want && !bytes.Equal(p, m.pages[i]):
		r.fatalf("%s: page %d is %d bytes %.8x…, want %d bytes %.8x…", m.label(), i, len(p), p, len(m.pages[i]), m.pages[i])
	case !want && !errors.Is(err, ErrNotFound):
		r.fatalf("%s: Get(%d) of a missing page: %d bytes, %v; want ErrNotFound", m.label(), i, len(p), err)
	}
}

func (r *modelRun) reopen() {
	r.logf("Close and Open")
	old := r.pick(true)
	if err := r.d.Close(); err != nil {
		r.fatalf("close: %v", err)
	}
	if old != nil && old.handle != nil {
		if _, err := old.handle.Append(r.ctx, []byte("late")); !errors.Is(err, ErrClosed) {
			r.fatalf("append on a handle of a closed DB: %v, want ErrClosed", err)
		}
	}
	if _, err := r.d.Book(r.ctx, "chat"); !errors.Is(err, ErrClosed) {
		r.fatalf("Book on a closed DB: %v, want ErrClosed", err)
	}
	r.d = r.open()
}

func (r *modelRun) deleteBook() {
	m := r.pick(false)
	if m == nil {
		return
	}
	r.logf("DeleteBook(%s)", m.label())
	old := r.handle(m)
	if err := r.d.DeleteBook(r.ctx, m.key); err != nil {
		r.fatalf("delete: %v", err)
	}
	if _, err := old.Has(0); !errors.Is(err, ErrClosed) {
		r.fatalf("Has on a deleted book's handle: %v, want ErrClosed", err)
	}
	if _, err := r.d.Info(m.key); !errors.Is(err, ErrNotFound) {
		r.fatalf("Info of a deleted book: %v, want ErrNotFound", err)
	}
	for i, x := range r.books {
		if x == m {
			r.books = append(r.books[:i], r.books[i+1:]...)
			break
		}
	}
}

func (r *modelRun) auditOne() {
	m := r.pick(false)
	if m == nil {
		return
	}
	r.logf("Audit(%s)", m.label())
	auditClean(r.t, r.handle(m))
}

// compare checks every book of the model against the DB, and the catalogue
// against the model's list of books.
func (r *modelRun) compare() {
	r.t.Helper()
	infos, err := r.d.Books()
	if err != nil {
		r.fatalf("Books: %v", err)
	}
	if len(infos) != len(r.books) {
		r.fatalf("catalogue holds %d books, model %d", len(infos), len(r.books))
	}
	for _, in := range infos {
		m := r.find(in.Key)
		if m == nil || in.Name != m.name || in.Writable != (m.name != "") {
			r.fatalf("catalogue entry %+v does not match the model", in)
		}
	}
	for _, m := range r.books {
		r.compareBook(m)
	}
}

func (r *modelRun) compareBook(m *mBook) {
	r.t.Helper()
	b := r.handle(m)
	n := uint64(len(m.pages))
	if b.Length() != n || b.ByteLength() != m.byteLength(len(m.pages)) || b.Fork() != m.fork {
		r.fatalf("%s: length %d byte length %d fork %d; model %d %d %d", m.label(),
			b.Length(), b.ByteLength(), b.Fork(), n, m.byteLength(len(m.pages)), m.fork)
	}
	for i := range len(m.pages) + 2 {
		r.checkPage(b, m, i)
	}
	if m.name != "" {
		in, err := r.d.LookupName(m.name)
		if err != nil || !in.Key.Equal(m.key) {
			r.fatalf("LookupName(%q): %v, %v", m.name, in, err)
		}
	}
	in, err := r.d.LookupDiscoveryKey(b.DiscoveryKey())
	if err != nil || !in.Key.Equal(m.key) {
		r.fatalf("LookupDiscoveryKey of %s: %v, %v", m.label(), in, err)
	}
	if bl := b.ByteLength(); bl > 0 {
		off := r.rng.Uint64N(bl)
		page, rel, err := b.Seek(r.ctx, off)
		if err != nil {
			r.fatalf("%s: Seek(%d): %v", m.label(), off, err)
		}
		if page >= n {
			r.fatalf("%s: Seek(%d) = page %d of %d", m.label(), off, page, n)
		}
		if start := m.byteLength(int(page)); off < start || off-start != rel || rel >= uint64(len(m.pages[page])) {
			r.fatalf("%s: Seek(%d) = page %d offset %d, model's page starts at %d", m.label(), off, page, rel, start)
		}
	}
}
