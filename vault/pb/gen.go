// Package pb holds the generated protobuf types of the vault's page
// records. Regenerate with go generate (needs protoc and protoc-gen-go).
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative vault.proto
