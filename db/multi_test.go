package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/folio-p2p/folio/book"
)

// openBooks opens names as writable books of d.
func openBooks(t testing.TB, d *DB, names ...string) []*book.Book {
	t.Helper()
	out := make([]*book.Book, len(names))
	for i, n := range names {
		b, err := d.Book(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func TestAppendMultiWritesEveryBook(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	bs := openBooks(t, d, "a", "b", "c")
	sub := bs[1].Subscribe()
	defer sub.Close()
	res, err := d.AppendMulti(ctx, book.SyncDefault,
		Append{Book: bs[0], Pages: [][]byte{[]byte("a0"), []byte("a1")}},
		Append{Book: bs[1], Pages: [][]byte{[]byte("b0")}},
		Append{Book: bs[2]}) // no pages: unchanged
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Length != 2 || res[1].Length != 1 || res[2].Length != 0 {
		t.Fatalf("results %+v", res)
	}
	if u := <-sub.C; u.Length != 1 {
		t.Fatalf("subscriber of b heard length %d, want 1", u.Length)
	}
	if _, err := d.AppendMulti(ctx, book.SyncOn,
		Append{Book: bs[2], Pages: [][]byte{[]byte("c0")}, CheckLength: true, ExpectedLength: 0},
		Append{Book: bs[0], Pages: [][]byte{[]byte("a2")}, CheckLength: true, ExpectedLength: 2}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := map[string][]string{"a": {"a0", "a1", "a2"}, "b": {"b0"}, "c": {"c0"}}
	for i, b := range openBooks(t, d, "a", "b", "c") {
		name := string(rune('a' + i))
		auditClean(t, b)
		if got := pagesOf(t, b); fmt.Sprint(got) != fmt.Sprint(want[name]) {
			t.Errorf("book %s after reopen: %q, want %q", name, got, want[name])
		}
	}
}

func pagesOf(t testing.TB, b *book.Book) []string {
	t.Helper()
	var out []string
	for i := range b.Length() {
		p, err := b.Get(context.Background(), i, &book.GetOptions{LocalOnly: true})
		if err != nil {
			t.Fatalf("%s page %d: %v", b.Name(), i, err)
		}
		out = append(out, string(p))
	}
	return out
}

func TestAppendMultiRefusesAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	d, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	other, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	bs := openBooks(t, d, "a", "b")
	foreign := openBooks(t, other, "x")[0]
	ro, err := other.OpenKey(ctx, bs[0].Key()) // a read-only copy, in the other DB
	if err != nil {
		t.Fatal(err)
	}
	page := [][]byte{[]byte("p")}
	cases := []struct {
		name  string
		parts []Append
		want  error
	}{
		{"twice", []Append{{Book: bs[0], Pages: page}, {Book: bs[0], Pages: page}}, book.ErrMultiAppend},
		{"foreign", []Append{{Book: bs[0], Pages: page}, {Book: foreign, Pages: page}}, book.ErrMultiAppend},
		{"read-only", []Append{{Book: ro, Pages: page}}, book.ErrMultiAppend},
		{"wrong length", []Append{{Book: bs[0], Pages: page}, {Book: bs[1], Pages: page, CheckLength: true, ExpectedLength: 5}}, book.ErrLengthChanged},
		{"too large", []Append{{Book: bs[0], Pages: page}, {Book: bs[1], Pages: [][]byte{make([]byte, 5<<20)}}}, book.ErrTooLarge},
	}
	for _, c := range cases {
		if _, err := d.AppendMulti(ctx, book.SyncDefault, c.parts...); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if bs[0].Length() != 0 || bs[1].Length() != 0 {
			t.Fatalf("%s: wrote something (lengths %d, %d)", c.name, bs[0].Length(), bs[1].Length())
		}
	}
	// The read-only book refuses through book.AppendMulti too.
	if _, err := book.AppendMulti(ctx, book.SyncDefault, []book.MultiAppend{{Book: ro, Pages: page}}); !errors.Is(err, book.ErrReadOnly) {
		t.Errorf("read-only through book: %v", err)
	}
	d.Close()
	if _, err := d.AppendMulti(ctx, book.SyncDefault, Append{Book: bs[0], Pages: page}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestAppendMultiConcurrent: multi-book appends over overlapping sets of
// books and single appends race; none deadlocks, every append lands once,
// and each multi-book append's pages sit in all its books or none.
func TestAppendMultiConcurrent(t *testing.T) {
	ctx := context.Background()
	d, err := Open(t.TempDir(), &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bs := openBooks(t, d, "a", "b", "c", "d")
	const writers, rounds = 4, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range rounds {
				page := [][]byte{fmt.Appendf(nil, "w%d/%d", w, i)}
				var parts []Append
				for _, j := range rng.Perm(len(bs))[:1+rng.IntN(len(bs))] {
					parts = append(parts, Append{Book: bs[j], Pages: page})
				}
				var err error
				if len(parts) == 1 && w%2 == 0 {
					_, err = parts[0].Book.Append(ctx, page...)
				} else {
					_, err = d.AppendMulti(ctx, book.SyncDefault, parts...)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, b := range bs {
		auditClean(t, b)
		seen := map[string]bool{}
		for _, p := range pagesOf(t, b) {
			if seen[p] {
				t.Fatalf("%s holds %s twice", b.Name(), p)
			}
			seen[p] = true
		}
		total += len(seen)
	}
	if total < writers*rounds {
		t.Fatalf("%d pages in all, want at least %d", total, writers*rounds)
	}
}

// TestAppendMultiModel applies random multi-book appends (some with a
// wrong expected length, which must write nothing), single appends and
// reopens, and compares every book with a model after each step.
func TestAppendMultiModel(t *testing.T) {
	seed := testSeed(t, "FOLIO_MULTI_MODEL_SEED", 0)
	rng := rand.New(rand.NewPCG(seed, 3))
	ctx := context.Background()
	dir := t.TempDir()
	names := []string{"a", "b", "c", "d", "e"}
	model := map[string][][]byte{}
	d, err := Open(dir, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.Close() }()
	bs := openBooks(t, d, names...)
	for step := range 300 {
		switch op := rng.IntN(20); {
		case op == 0:
			d.Close()
			if d, err = Open(dir, &Options{NoSync: true}); err != nil {
				t.Fatal(err)
			}
			bs = openBooks(t, d, names...)
		case op < 4:
			i := rng.IntN(len(bs))
			p := randomPage(rng, step, 0)
			if _, err := bs[i].Append(ctx, p); err != nil {
				t.Fatal(err)
			}
			model[names[i]] = append(model[names[i]], p)
		default:
			var parts []Append
			wrong := rng.IntN(6) == 0
			for k, i := range rng.Perm(len(bs))[:1+rng.IntN(len(bs))] {
				pages := make([][]byte, rng.IntN(4)) // zero pages: a share that changes nothing
				for j := range pages {
					pages[j] = randomPage(rng, step, j)
				}
				want := uint64(len(model[names[i]]))
				if wrong && k == 0 {
					want++
				}
				parts = append(parts, Append{Book: bs[i], Pages: pages, CheckLength: rng.IntN(2) == 0 || wrong, ExpectedLength: want})
			}
			res, err := d.AppendMulti(ctx, book.SyncDefault, parts...)
			if wrong {
				if !errors.Is(err, book.ErrLengthChanged) {
					t.Fatalf("step %d: wrong length gave %v", step, err)
				}
				break
			}
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			for k, pt := range parts {
				name := names[indexOf(bs, pt.Book)]
				model[name] = append(model[name], pt.Pages...)
				if res[k].Length != uint64(len(model[name])) {
					t.Fatalf("step %d: %s result length %d, model %d", step, name, res[k].Length, len(model[name]))
				}
			}
		}
		for i, b := range bs {
			if got, want := b.Length(), uint64(len(model[names[i]])); got != want {
				t.Fatalf("step %d: %s has %d pages, model %d", step, names[i], got, want)
			}
		}
	}
	for i, b := range bs {
		auditClean(t, b)
		for j, p := range pagesOf(t, b) {
			if !bytes.Equal([]byte(p), model[names[i]][j]) {
				t.Fatalf("%s page %d differs from the model", names[i], j)
			}
		}
	}
}

func randomPage(rng *rand.Rand, step, j int) []byte {
	p := fmt.Appendf(nil, "%d/%d:", step, j)
	for range rng.IntN(200) {
		p = append(p, byte('a'+rng.IntN(26)))
	}
	return p
}

func indexOf(bs []*book.Book, b *book.Book) int {
	for i, x := range bs {
		if x == b {
			return i
		}
	}
	return -1
}
