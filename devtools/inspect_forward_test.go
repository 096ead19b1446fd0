package devtools

import (
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/db"
)

// TestDevtoolsCommandFindsTheVault checks the two ways DevtoolsCommand
// reaches a vault whose DB another process holds: with nobody answering
// on the API socket it says the DB is locked; with a peer answering (here
// a stand-in serving the API's devtools endpoint as the daemon does) the
// command runs there, without --dir, and its exit code comes back.
func TestDevtoolsCommandFindsTheVault(t *testing.T) {
	dir := t.TempDir()
	buildTestVault(t, dir)
	d, err := db.Open(filepath.Join(dir, "db"), nil) // the "daemon" holds the DB
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	_, errOut, code := runDevtools(t, []string{"--dir", dir, "books"})
	if code != 1 || !strings.Contains(errOut, "is locked by another process, and no folio peer answers on") {
		t.Fatalf("locked vault: exit %d: %s", code, errOut)
	}

	var got [][]string
	serveAPI(t, dir, func(args []string, w http.ResponseWriter) int {
		got = append(got, args)
		return RunInspector(t.Context(), &Env{Dir: dir, DB: d}, args, w, w)
	})
	out, errOut, code := runDevtools(t, []string{"--dir", dir, "--json", "books"})
	if code != 0 || !strings.Contains(out, `"title": "notes"`) {
		t.Fatalf("books through the API: exit %d\n%s%s", code, out, errOut)
	}
	if _, _, code = runDevtools(t, []string{"verify", "--dir=" + dir, "nosuchbook"}); code != 1 {
		t.Fatalf("verify nosuchbook through the API: exit %d, want 1", code)
	}
	want := [][]string{{"--json", "books"}, {"verify", "nosuchbook"}}
	if len(got) != 2 || strings.Join(got[0], " ") != strings.Join(want[0], " ") || strings.Join(got[1], " ") != strings.Join(want[1], " ") {
		t.Fatalf("the peer was asked %q, want %q", got, want)
	}
	// help and lab never ask the peer
	if _, _, code = runDevtools(t, []string{"--dir", dir, "pages", "--help"}); code != 0 || len(got) != 2 {
		t.Fatalf("pages --help: exit %d, %d requests", code, len(got))
	}
}

// serveAPI serves, on the vault's API socket, the two endpoints the
// inspector uses: /v1/id (Dial's check) and /v1/devtools, streaming the
// output and sending the exit code in the X-Folio-Exit trailer.
func serveAPI(t *testing.T, dir string, run func(args []string, w http.ResponseWriter) int) {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(dir, api.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/id", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(api.ID{ID: "stand-in", Dir: dir})
	})
	mux.HandleFunc("POST /v1/devtools", func(w http.ResponseWriter, r *http.Request) {
		var req api.Devtools
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Trailer", "X-Folio-Exit")
		code := run(req.Args, w)
		w.Header().Set("X-Folio-Exit", strconv.Itoa(code))
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}
