package cli

import "github.com/folio-p2p/folio/vault"

// DefaultDir is where the vault lives unless --dir says otherwise (see
// vault.DefaultDir).
func DefaultDir() string { return vault.DefaultDir() }

func vaultExists(dir string) bool { return vault.Exists(dir) }
