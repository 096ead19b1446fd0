package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"

	"github.com/folio-p2p/folio/api"
)

// ensureToken returns the vault's API token (api.TokenName), making one
// if there is none. The token is written to a private temporary file
// and linked into place, so that a reader never sees half a token and
// two daemons racing to create it end up with the same one.
func ensureToken(dir string) (string, error) {
	tok, err := api.ReadToken(dir)
	if !errors.Is(err, api.ErrNoToken) {
		return tok, err
	}
	raw := make([]byte, api.TokenSize)
	rand.Read(raw) // never fails (crypto/rand, Go 1.24+)
	// CreateTemp makes the file 0600.
	tmp, err := os.CreateTemp(dir, ".api.token-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(raw) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), filepath.Join(dir, api.TokenName)); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	return api.ReadToken(dir)
}
