// Package folio is the root of the folio module: signed, single-author,
// append-only books stored in Pebble, for peer-to-peer apps. The code lives
// in the packages below it; see DESIGN.md (../shared/DESIGN.md in the
// development checkout) and README.md. This package holds only the test
// that enforces the import layers.
package folio
