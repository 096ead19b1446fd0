package vault

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The holder file names the process that has the vault open, so that a
// second process finding the vault locked can say who holds it. It is
// written once the DB's lock is taken and removed before the lock is
// released, so whoever reads it while the lock is held reads the holder
// (a crashed holder leaves a stale file, but then the lock is free and
// nobody reads it).
const (
	holderFile = "holder"
	maxHolder  = 256 // bytes read back, at most
)

// defaultHolder is the program's name and its first argument when that is
// not a flag: "folio send".
func defaultHolder() string {
	if len(os.Args) == 0 {
		return "a process"
	}
	who := filepath.Base(os.Args[0])
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		who += " " + os.Args[1]
	}
	return who
}

// writeHolder records this process as the holder. It is best effort: a
// vault whose holder is not recorded works the same, a second process
// just cannot name it.
func (v *Vault) writeHolder() {
	who := v.o.Holder
	if who == "" {
		who = defaultHolder()
	}
	line := fmt.Sprintf("%s (pid %d)", who, os.Getpid())
	if len(line) > maxHolder {
		line = line[:maxHolder]
	}
	if os.WriteFile(filepath.Join(v.dir, holderFile), []byte(line), 0o600) == nil {
		v.holder = true
	}
}

func (v *Vault) removeHolder() {
	if v.holder {
		os.Remove(filepath.Join(v.dir, holderFile))
	}
}

// Holder is who has the vault in dir open, as it recorded itself ("folio
// send (pid 1234)"), or "" if unknown. It means something only while the
// vault is locked (ErrLocked): a holder that crashed leaves its line behind.
func Holder(dir string) string {
	f, err := os.Open(filepath.Join(dir, holderFile))
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, maxHolder))
	return strings.TrimSpace(string(b))
}

// lockedError is ErrLocked for dir, naming the holder when it is known.
func lockedError(dir string, err error) error {
	if who := Holder(dir); who != "" {
		return fmt.Errorf("%w: %s is held by %s (%w)", ErrLocked, dir, who, err)
	}
	return fmt.Errorf("%w: %s (%w)", ErrLocked, dir, err)
}
