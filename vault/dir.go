package vault

import (
	"os"
	"path/filepath"
)

// DefaultDir is where a person's vault lives unless told otherwise:
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

// Exists reports whether dir holds a vault (its identity key).
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, keyFile))
	return err == nil
}
