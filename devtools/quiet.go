package devtools

import "github.com/cockroachdb/pebble/v2"

// quiet is a Pebble logger that says nothing but fatal errors: the
// inspector's scratch stores are not worth a line.
type quiet struct{}

func (quiet) Infof(string, ...any)         {}
func (quiet) Errorf(string, ...any)        {}
func (quiet) Fatalf(f string, args ...any) { pebble.DefaultLogger.Fatalf(f, args...) }
