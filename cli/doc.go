// Package cli holds a person's commands (`folio init`, `run`, `task`,
// `send`, `log`, `chat`, `open`… — Commands lists them, Names gives their
// names) and the daemon they talk to: `folio run`, which serves the local
// API (package api describes it) and the web app.
//
// # Commands
//
// Run runs one command: its flags (only those that apply: --json where it
// prints something a script reads, the network flags where it may start
// the network), then the work, through a backend: the running daemon's
// API client when `folio run` holds the vault, else the vault opened by
// the command itself (offline unless the command needs the network; see
// open.go). The API's handlers and the local backend share one set of
// operations on a *peer.Peer (local.go, verbs_ops.go), so a command does
// the same thing whether a daemon runs or not. --help goes to stdout;
// errors are one plain line on stderr (plainerr.go: no package prefixes,
// a hint where there is one); exit codes 0, 1 (failure), 2 (usage). Text
// peers wrote is escaped for the terminal (internal/safeterm).
//
// Message IDs are accepted in every form the tools print (ids.go): the
// full "<peer>/<index>", the short "<last 6 of the peer>/<index>" of log
// and chat, with or without brackets; a message that is not in the
// task's timeline is refused, so a reply never points at nothing.
//
// # The daemon
//
// `folio run` opens the vault online and serves the API on the vault's
// Unix socket (0600) and, with --http, on a loopback TCP address, where
// the guard (httpguard.go) checks Host, Origin and the credential: the
// vault's API token (token.go) or the web app's cookie (webapp.go). It
// logs what its person wants to know (runlog.go: peers met and lost,
// catch-up done, messages arriving); --quiet silences that.
//
// # The web app
//
// cli/web holds the app: one HTML page, a stylesheet and a script, no
// library, embedded with embed and served at / on TCP. It uses the API
// like any client, follows a task over Server-Sent Events, and puts every
// text a peer wrote on the page with textContent (never as HTML), under a
// Content-Security-Policy that allows its own files only. `folio open`
// signs a browser in (webopen.go, webapp.go).
package cli
