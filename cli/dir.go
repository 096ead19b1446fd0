package cli

import (
	"os"
	"path/filepath"
)

// DefaultDir is where the vault lives unless --dir says otherwise:
// $FOLIO_DIR, else $XDG_DATA_HOME/folio, else ~/.local/share/folio.
func DefaultDir() string {
	if d := os.Getenv("FOLIO_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "folio")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "folio")
	}
	return filepath.Join(home, ".local", "share", "folio")
}

// vaultExists reports whether dir holds a vault (its identity key).
func vaultExists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "identity.key"))
	return err == nil
}
