// Package demo is `folio demo`: three peers (Bob, Ana, Carol), each with
// its own vault in a temporary directory, meet over real libp2p on
// loopback; Bob creates a task and invites Ana, they chat, Carol joins
// through Ana; then every peer's timeline, the books it holds (verified)
// and the latencies are printed and checked (DemoCommand). It drives
// peer and vault, as a program of its own: the inspector (devtools) only
// looks inside vaults.
package demo
