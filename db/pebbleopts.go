package db

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// indexBlockSize is the size past which a table's index is split in two
// levels. Index entries take ~34 bytes per 4 KiB data block: a 2 MiB
// table (Pebble's smallest target) has a 16 KiB index, and only tables
// over ~7 MiB split, into partitions of this size. Pebble's default is the
// data block size, 4 KiB, which splits every table over ~0.5 MiB. Tables
// written either way read alike, so existing DBs keep opening
// (TestTablesOfOlderOptionsRead).
const indexBlockSize = 64 << 10

// walBytesPerSync starts the write-back of the write-ahead log every MiB
// written (sync_file_range, in the background), as Pebble already does for
// sstables (BytesPerSync). Without it an unsynced log is written back only
// when the memtable rotates, and Pebble syncs the old log then, on the
// committing goroutine: with 64 MiB memtables a NoSync writer saw a 50–90
// ms append every 64 MiB, which made its p99 (BENCHMARKS.md, issue 15,
// stop 26). Synced appends sync the log anyway.
const walBytesPerSync = 1 << 20

// pebbleOptions returns the Pebble options Open uses for o (already
// defaulted), with cache as the block cache and no directory lock.
func (o *Options) pebbleOptions(cache *pebble.Cache) *pebble.Options {
	po := &pebble.Options{
		FS:           o.FS,
		Cache:        cache,
		MemTableSize: o.MemTableSize,
		// Pebble's name; see Options.MemTableStopWrites.
		MemTableStopWritesThreshold: o.MemTableStopWrites,
		Logger:                      o.Logger,
		ReadOnly:                    o.ReadOnly,
	}
	// Pebble's scheduler ticks every 100 ms for the DB's whole life; this
	// one only while a compaction runs (compactsched.go). One per DB.
	po.Experimental.CompactionScheduler = newQuietScheduler()
	po.WALBytesPerSync = walBytesPerSync
	if o.NoWALRecycling {
		po.Cleaner = noRecycleCleaner{}
	}
	// Bloom filters on every level: most reads are point gets of pages and
	// nodes, and a filter skips the tables that cannot hold the key. (Gets
	// do not read L6's filters: Pebble skips them unless asked.)
	//
	// One index block per table up to indexBlockSize: a Get then reads two
	// blocks (index, data), not three (top index, index partition, data);
	// a partition also churns the block cache when random gets miss.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		po.Levels[i].IndexBlockSize = indexBlockSize
	}
	return po
}

// noRecycleCleaner deletes obsolete files, as Pebble's default cleaner,
// but also carries the marker of a cleaner that needs the files' contents
// (ArchiveCleaner's, one level deeper so that its Clean is not promoted),
// the only switch Pebble v2 has that stops it keeping WAL files for reuse
// (obsolete_files.go: deleteObsoleteFiles).
type noRecycleCleaner struct {
	pebble.DeleteCleaner
	needsContents
}

type needsContents struct{ pebble.ArchiveCleaner }

// PebbleOptions returns the options Open would pass to Pebble for o (nil
// means the defaults), with a block cache of its own that the caller
// releases with Cache.Unref after pebble.Open. It is for baselines: raw
// Pebble measured with exactly the settings a DB uses.
func PebbleOptions(o *Options) *pebble.Options {
	opts := o.withDefaults()
	return opts.pebbleOptions(pebble.NewCache(opts.CacheSize))
}
