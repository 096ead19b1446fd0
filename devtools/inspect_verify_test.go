package devtools

import (
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/folio-p2p/folio/db"
)

// bookKey returns the Pebble key of a record of the book with the given
// catalogue pointer: the layouts of db/keys.go (0x02 u32be(pointer)) and
// book/keys.go (tag, then u64be(index) for pages and nodes).
func bookKey(pointer uint32, tag byte, index uint64, indexed bool) []byte {
	k := binary.BigEndian.AppendUint32([]byte{0x02}, pointer)
	k = append(k, tag)
	if indexed {
		k = binary.BigEndian.AppendUint64(k, index)
	}
	return k
}

// pointers returns the catalogue pointers of the named books.
func pointers(t *testing.T, dbDir string, names ...string) map[string]uint32 {
	t.Helper()
	d, err := db.Open(dbDir, &db.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out := map[string]uint32{}
	for _, n := range names {
		in, err := d.LookupName(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = in.Pointer
	}
	return out
}

// flipByte flips one bit of the byte at offset in the value under key,
// writing straight into the vault's Pebble: corruption on disk.
func flipByte(t *testing.T, pdb *pebble.DB, key []byte, offset int) {
	t.Helper()
	v, closer, err := pdb.Get(key)
	if err != nil {
		t.Fatalf("get %x: %v", key, err)
	}
	v = append([]byte(nil), v...)
	closer.Close()
	if offset < 0 {
		offset += len(v)
	}
	v[offset] ^= 0x04
	if err := pdb.Set(key, v, pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyFindsCorruption corrupts, on disk, one page and one tree node
// of "notes" and the signature in the stored head of "profile", and
// checks that verify names each of them (kind and index) and exits 1.
func TestVerifyFindsCorruption(t *testing.T) {
	dir := t.TempDir()
	buildTestVault(t, dir)
	if out, errOut, code := runDevtools(t, []string{"--dir", dir, "verify"}); code != 0 {
		t.Fatalf("clean vault: exit %d\n%s%s", code, out, errOut)
	}
	dbDir := filepath.Join(dir, "db")
	ptr := pointers(t, dbDir, "notes", profileBookName)
	pdb, err := pebble.Open(dbDir, &pebble.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, pdb, bookKey(ptr["notes"], 'p', 2, true), -1)           // the last byte of page 2 (after its leaf hash)
	flipByte(t, pdb, bookKey(ptr["notes"], 'n', 1, true), 20)           // inside the hash of node 1 (pages 0 and 1)
	flipByte(t, pdb, bookKey(ptr[profileBookName], 'h', 0, false), 100) // inside the head's signature (bytes 58 to 122)
	if err := pdb.Close(); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := runDevtools(t, []string{"--dir", dir, "verify"})
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"FAIL  notes",
		"page 2: bytes do not match the leaf hash",
		"node 1: does not match the hash of its children",
		"FAIL  profile",
		"signature (head at length 2): the stored head's signature does not verify",
		"ok    private/peerstore",
		"2 of 7 books have problems",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}

	out, _, code = runDevtools(t, []string{"--dir", dir, "verify", "--json", "notes", "profile"})
	if code != 1 {
		t.Fatalf("verify --json: exit %d", code)
	}
	var rep struct {
		OK    bool
		Books []VerifyBook
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	found := map[string]bool{}
	for _, b := range rep.Books {
		for _, p := range b.Problems {
			found[b.Title+" "+p.Kind+" "+strconv.FormatUint(p.Index, 10)] = true
		}
	}
	for _, want := range []string{"notes page 2", "notes node 1", "profile signature 2"} {
		if !found[want] {
			t.Errorf("verify --json does not name %q: %v", want, found)
		}
	}
	if rep.OK || len(rep.Books) != 2 {
		t.Errorf("verify --json: ok %v, %d books", rep.OK, len(rep.Books))
	}

	// pages shows the corrupt page for what it is
	out, _, code = runDevtools(t, []string{"--dir", dir, "pages", "notes", "--from", "2", "--to", "2"})
	if code != 0 || !strings.Contains(out, "DOES NOT MATCH THE BYTES") {
		t.Errorf("pages of a corrupt page: exit %d\n%s", code, out)
	}
	// and a book whose head does not verify is not opened
	_, errOut, code = runDevtools(t, []string{"--dir", dir, "pages", "profile"})
	if code != 1 || !strings.Contains(errOut, "will not open") {
		t.Errorf("pages of a book with a bad head: exit %d, %s", code, errOut)
	}
}

// TestVerifyProgress checks the bar's drawing, and that none is drawn
// when stderr is not a terminal.
func TestVerifyProgress(t *testing.T) {
	var b strings.Builder
	p := &progress{w: &b, books: 2, pages: 10}
	p.show(1, 5, "notes")
	p.done()
	if want := "\r\x1b[Kverify [===============               ] 1/2 books, 5/10 pages: notes\r\x1b[K"; b.String() != want {
		t.Fatalf("bar %q, want %q", b.String(), want)
	}
	if isTerminal(&b) || newProgress(&b, 3, 10).w != nil {
		t.Fatal("a strings.Builder is taken for a terminal")
	}
	dir := t.TempDir()
	buildTestVault(t, dir)
	if _, errOut, code := runDevtools(t, []string{"--dir", dir, "verify"}); code != 0 || errOut != "" {
		t.Fatalf("verify: exit %d, stderr %q", code, errOut)
	}
}
