// Package pb holds the generated protobuf code of the peerstore journal's
// pages, the reference the tests hold package peerstore's own codec to
// (the package itself does not use it). Edit peerstore.proto, then run go
// generate (needs protoc and protoc-gen-go v1.36.12). The format is described in package peerstore's
// doc.
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative peerstore.proto
