// Package devtools is a library of folio's developer commands, in the style
// of Pebble's tool package: each command is a function over arguments and
// writers, so cmd/folio and any other program can mount it.
//
// For now it holds the benchmarks (`folio bench <shape>`); the inspector
// and lab commands come later.
package devtools
