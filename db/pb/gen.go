// Package pb holds the generated protobuf code of folio's replication
// messages. Edit replicate.proto, then run go generate (needs protoc and
// protoc-gen-go v1.36.12).
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative replicate.proto
