package cli

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/folio-p2p/folio/api"
)

// TestToken: the API token is made once, 0600, 64 hex digits, the same
// for daemons racing to make it; a file others may read, or that holds
// no token, is refused and left as it is.
func TestToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, api.TokenName)
	if _, err := api.ReadToken(dir); !errors.Is(err, api.ErrNoToken) {
		t.Fatalf("ReadToken on a vault without one: %v, want ErrNoToken", err)
	}
	toks := make([]string, 8)
	var wg sync.WaitGroup
	for i := range toks {
		wg.Go(func() {
			var err error
			if toks[i], err = ensureToken(dir); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, tok := range toks {
		if tok != toks[0] || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tok) {
			t.Fatalf("tokens %q: want one, 64 hex digits", toks)
		}
	}
	if again, err := ensureToken(dir); err != nil || again != toks[0] {
		t.Fatalf("a second ensureToken: %q %v, want %q", again, err, toks[0])
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v, want mode 0600", path, st.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the vault holds %v, want the token only (no temporary files)", ents)
	}
	if other, _ := ensureToken(t.TempDir()); other == toks[0] {
		t.Errorf("two vaults got the same token")
	}

	// Readable by the group: refused, and not replaced.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureToken(dir); !errors.Is(err, api.ErrBadToken) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "0600") {
		t.Errorf("a 0640 token file: %v, want ErrBadToken naming it and 0600", err)
	}
	os.Chmod(path, 0o600)
	for _, bad := range []string{"", "short\n", strings.Repeat("g", 64), toks[0] + "00", toks[0] + "\n\n"} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ensureToken(dir); !errors.Is(err, api.ErrBadToken) {
			t.Errorf("token file %q: %v, want ErrBadToken", bad, err)
		}
		if b, _ := os.ReadFile(path); string(b) != bad {
			t.Errorf("token file %q became %q", bad, b)
		}
	}

	// A server with a bad token file does not serve TCP.
	a := openAPIPeer(t, "ana")
	if err := os.WriteFile(filepath.Join(a.dir, api.TokenName), []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if addr, err := a.srv.ListenTCP("127.0.0.1:0"); !errors.Is(err, api.ErrBadToken) {
		t.Errorf("ListenTCP with a bad token file: %q %v, want ErrBadToken", addr, err)
	}
}
