// Package lab is `folio devtools lab N`: N peers in one process, each in
// its own vault, on loopback, all members of one task, driven by
// commands read from stdin (stop, start, send, state, timeline, sync) and
// reporting deliveries as they happen (LabCommand). It is a program of
// its own, listed with the inspector's commands by cmd/folio; it shares
// demo's rendering of timelines and book titles.
package lab
