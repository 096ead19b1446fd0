// Package devtools is a library of folio's developer commands, in the style
// of Pebble's tool package: each command is a function over arguments and
// writers, so cmd/folio and any other program can mount it.
//
//   - DevtoolsCommand: `folio devtools <cmd>`, the inspector: books, pages,
//     page --proof, verify, tree (DOT or an SVG drawn here), peers,
//     peerstore rebuild, watch, stats. It opens a vault directory
//     read-only, or, when a peer runs on it (`folio run`), hands the
//     arguments to that peer through its local API, which runs
//     RunInspector on the live peer (Env) and streams the output back.
//     Every command has --json. Text output shows what peers wrote
//     (names, messages, titles, agent versions, protocols, metadata)
//     with control characters and bidi overrides escaped
//     (internal/safeterm); --json keeps it as written.
//
// The programs that drive peers rather than look inside one live in
// packages of their own: demo (`folio demo`), bench (`folio bench`) and
// lab (`folio devtools lab`, routed by cmd/folio).
//
// EventHub turns a live peer's listener callbacks into the Events that
// watch shows.
package devtools
