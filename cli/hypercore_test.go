package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/folio-p2p/folio/vault"
)

// TestHypercoreServeFetch: `folio hypercore serve` serves a vault's book
// by name; `folio hypercore fetch` replicates it over the hypercore
// protocol into another vault and prints the fields other tooling reads;
// SIGTERM ends serve with exit 0.
func TestHypercoreServeFetch(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	mustFolio(t, "init", "--dir", a)
	mustFolio(t, "init", "--dir", b)
	ctx := context.Background()
	v, err := vault.Open(ctx, a, &vault.Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	bk, err := v.DB().Book(ctx, "notes")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if _, err := bk.Append(ctx, []byte(fmt.Sprintf("note %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := bk.Head()
	key := hex.EncodeToString(bk.Key())
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}

	serve := exec.Command(folioBin(t), "hypercore", "serve", "notes", "--listen", "127.0.0.1:0", "--json", "--dir", a)
	serve.Env = testEnv()
	out, _ := serve.StdoutPipe()
	var stderr syncBuffer
	serve.Stderr = &stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v %s", err, stderr.String())
	}
	var first struct {
		Key    string `json:"key"`
		Length uint64 `json:"length"`
		Listen string `json:"listen"`
	}
	if err := json.Unmarshal([]byte(line), &first); err != nil || first.Key != key || first.Length != 30 || !strings.HasPrefix(first.Listen, "127.0.0.1:") {
		t.Fatalf("serve's first line %q: %v", line, err)
	}

	got := mustFolio(t, "hypercore", "fetch", key, "--connect", first.Listen, "--json", "--dir", b, "--timeout", "60s")
	var f map[string]any
	if err := json.Unmarshal([]byte(got), &f); err != nil {
		t.Fatalf("fetch printed %q: %v", got, err)
	}
	want := map[string]any{"key": key, "length": 30.0, "byte_length": float64(h.ByteLength),
		"tree_hash": hex.EncodeToString(h.TreeHash[:]), "verified": true}
	for k, w := range want {
		if f[k] != w {
			t.Errorf("fetch %s = %v, want %v", k, f[k], w)
		}
	}
	if len(f) != len(want) {
		t.Errorf("fetch printed fields %v", f)
	}

	_ = serve.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- serve.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}

	if r := folio(t, "hypercore", "fetch", "zz", "--connect", first.Listen, "--dir", b); r.code != 2 {
		t.Errorf("bad key: %s", r)
	}
	if r := folio(t, "hypercore", "serve", "nosuchbook", "--listen", "127.0.0.1:0", "--dir", a); r.code != 1 {
		t.Errorf("unknown book: %s", r)
	}
}
