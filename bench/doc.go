// Package bench is `folio bench <shape>`: appends (single, batched,
// synced), random reads, proofs, replication and the baselines
// (pebble-sync, open-books), measured on a DB of its own (BenchCommand,
// BenchShapes); and the messenger's shapes (group, tasks: PeerBenchShapes),
// which run whole peers in one process on loopback, so bench sits above
// peer and vault. The same shapes are Go benchmarks (go test -bench .
// ./bench); BENCHMARKS.md has the figures. The directory also holds the
// hypercore side of the comparison (hypercore/, compare.sh).
package bench
