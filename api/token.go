package api

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// TokenName is the API token's file name in the vault directory: 32
// random bytes in hex (64 characters), mode 0600. Clients of the API on
// TCP send it as "Authorization: Bearer <token>".
const TokenName = "api.token"

// TokenSize is the token's length in bytes before hex encoding.
const TokenSize = 32

// ErrNoToken: the vault has no API token (no `folio run --http` made one).
var ErrNoToken = errors.New("api: no API token in this vault")

// ErrBadToken: the token file is readable by others or does not hold a
// token.
var ErrBadToken = errors.New("api: bad API token file")

// ReadToken returns the token kept in the vault directory dir. A token
// file that others may read (group or world permission bits) is refused:
// the token might have leaked.
func ReadToken(dir string) (string, error) {
	path := filepath.Join(dir, TokenName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: %s does not exist", ErrNoToken, path)
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 || !st.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s has mode %v, want a file with mode 0600 (remove it and restart folio run --http for a new token)", ErrBadToken, path, st.Mode())
	}
	// A token and a newline; anything longer is not a token.
	b, err := io.ReadAll(io.LimitReader(f, 2*TokenSize+2))
	if err != nil {
		return "", err
	}
	tok := strings.TrimSuffix(string(b), "\n")
	if raw, err := hex.DecodeString(tok); err != nil || len(raw) != TokenSize {
		return "", fmt.Errorf("%w: %s does not hold %d hex digits", ErrBadToken, path, 2*TokenSize)
	}
	return tok, nil
}
