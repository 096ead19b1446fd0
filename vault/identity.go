package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// loadOrCreateKey reads the vault's identity from dir, creating it (owner
// read/write only) on first open. A key file that group or others may read
// is refused: the key is the peer.
func loadOrCreateKey(dir string) (crypto.PrivKey, bool, error) {
	path := filepath.Join(dir, keyFile)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		k, _, err := crypto.GenerateEd25519Key(nil)
		if err != nil {
			return nil, false, err
		}
		b, err := crypto.MarshalPrivateKey(k)
		if err != nil {
			return nil, false, err
		}
		tmp := path + ".tmp"
		if err := writeFileSync(tmp, b, 0o600); err != nil {
			return nil, false, fmt.Errorf("vault: write identity: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, false, fmt.Errorf("vault: write identity: %w", err)
		}
		return k, true, nil
	case err != nil:
		return nil, false, fmt.Errorf("vault: identity: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("%w: %s has mode %v; run chmod 600 %s", ErrKeyPermissions, path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("vault: identity: %w", err)
	}
	k, err := crypto.UnmarshalPrivateKey(b)
	if err != nil {
		return nil, false, fmt.Errorf("vault: identity %s: %w", path, err)
	}
	if k.Type() != crypto.Ed25519 {
		return nil, false, fmt.Errorf("vault: identity %s: %v key, want Ed25519", path, k.Type())
	}
	return k, false, nil
}

func writeFileSync(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
