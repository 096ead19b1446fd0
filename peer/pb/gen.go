// Package pb holds the generated protobuf types of the task messenger's
// pages. Regenerate with go generate (needs protoc and protoc-gen-go).
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative peer.proto
