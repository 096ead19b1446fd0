package devtools

import (
	"fmt"
	"text/tabwriter"

	"github.com/cockroachdb/pebble/v2"

	"github.com/folio-p2p/folio/db"
	"github.com/folio-p2p/folio/db/peerstore"
)

// StatsReport is `stats`: the DB's books and counters, Pebble's state and
// the replication counters.
type StatsReport struct {
	Live      bool   `json:"live"`
	Books     int    `json:"books"`
	Writable  int    `json:"writable"`
	Pages     uint64 `json:"pages"` // signed pages of every book
	Bytes     uint64 `json:"bytes"` // signed bytes of every book
	DiskUsage uint64 `json:"disk_usage"`
	// Counters since the DB was opened (by this inspector when read from
	// disk, so zero then).
	Appends              uint64 `json:"appends"`
	AppendedPages        uint64 `json:"appended_pages"`
	ReceivedHeads        uint64 `json:"received_heads"`
	Truncates            uint64 `json:"truncates"`
	VerificationFailures uint64 `json:"verification_failures"`
	Equivocations        uint64 `json:"equivocations"`
	Corruptions          uint64 `json:"corruptions"`
	// Sessions are the peers replicating now (null when read from disk).
	Sessions  []string           `json:"sessions"`
	Pebble    PebbleStats        `json:"pebble"`
	Peerstore *peerstore.Metrics `json:"peerstore,omitempty"` // live peer only
}

// PebbleStats sums up Pebble's metrics.
type PebbleStats struct {
	Levels         []LevelStats `json:"levels"`
	ReadAmp        int          `json:"read_amp"`
	MemTables      int64        `json:"memtables"`
	MemTableBytes  uint64       `json:"memtable_bytes"`
	WALFiles       int64        `json:"wal_files"`
	WALBytes       uint64       `json:"wal_bytes"`
	Flushes        int64        `json:"flushes"`
	Compactions    int64        `json:"compactions"`
	CompactionDebt uint64       `json:"compaction_debt"`
	CacheBytes     int64        `json:"cache_bytes"`
	CacheHits      int64        `json:"cache_hits"`
	CacheMisses    int64        `json:"cache_misses"`
	Snapshots      int          `json:"snapshots"`
	Tombstones     uint64       `json:"tombstones"`
}

// LevelStats is one LSM level.
type LevelStats struct {
	Level     int   `json:"level"`
	Tables    int64 `json:"tables"`
	Bytes     int64 `json:"bytes"`
	Sublevels int32 `json:"sublevels"`
}

func (in *inspector) stats(args []string) int {
	fs := in.flags("The DB's books (signed pages and bytes), its counters since it was opened,\nreplication sessions and counters, and a summary of Pebble's metrics\n(--pebble prints Pebble's own table).")
	full := fs.Bool("pebble", false, "also print Pebble's full metrics table")
	if _, ok, code := in.parse(fs, args, 0, 0); !ok {
		return code
	}
	all, err := in.catalogue() // opens every book, so the metrics count them all
	if err != nil {
		return in.fail("%v", err)
	}
	m, err := in.env.DB.Metrics()
	if err != nil {
		return in.fail("%v", err)
	}
	r := statsOf(all, m)
	r.Live = in.live()
	if r.Live {
		r.Sessions = []string{}
		for _, p := range in.sessions() {
			r.Sessions = append(r.Sessions, p.String())
		}
	}
	if in.env.Peerstore != nil {
		pm := in.env.Peerstore.Metrics()
		r.Peerstore = &pm
	}
	if in.json {
		in.emit(r)
		return 0
	}
	in.printStats(r)
	if *full {
		fmt.Fprintf(in.stdout, "\n%s\n", m.Pebble.String()) // many lines, all local
	}
	return 0
}

func statsOf(all []*bookEntry, m *db.Metrics) *StatsReport {
	r := &StatsReport{Books: len(all), DiskUsage: m.DiskUsage,
		Appends: m.Appends, AppendedPages: m.AppendedPages, ReceivedHeads: m.ReceivedHeads, Truncates: m.Truncates,
		VerificationFailures: m.VerificationFailures, Equivocations: m.Equivocations, Corruptions: m.Corruptions,
		Pebble: pebbleStats(m.Pebble)}
	for _, e := range all {
		if e.info.Writable {
			r.Writable++
		}
		if e.b != nil {
			r.Pages += e.b.Length()
			r.Bytes += e.b.ByteLength()
		}
	}
	return r
}

func pebbleStats(m *pebble.Metrics) PebbleStats {
	p := PebbleStats{ReadAmp: m.ReadAmp(), MemTables: m.MemTable.Count, MemTableBytes: m.MemTable.Size,
		WALFiles: m.WAL.Files, WALBytes: m.WAL.Size, Flushes: m.Flush.Count, Compactions: m.Compact.Count,
		CompactionDebt: m.Compact.EstimatedDebt, CacheBytes: m.BlockCache.Size, CacheHits: m.BlockCache.Hits,
		CacheMisses: m.BlockCache.Misses, Snapshots: m.Snapshots.Count, Tombstones: m.Keys.TombstoneCount}
	for i, l := range m.Levels {
		p.Levels = append(p.Levels, LevelStats{Level: i, Tables: l.TablesCount, Bytes: l.TablesSize, Sublevels: l.Sublevels})
	}
	return p
}

func (in *inspector) printStats(r *StatsReport) {
	where := "read from disk"
	if r.Live {
		where = "the running peer's"
	}
	in.printf("db (%s)\n", where)
	in.printf("  books                  %d (%d writable, %d read-only)\n", r.Books, r.Writable, r.Books-r.Writable)
	in.printf("  signed pages           %d\n  signed bytes           %d\n  disk usage             %d bytes\n", r.Pages, r.Bytes, r.DiskUsage)
	in.printf("counters since the DB was opened")
	if !r.Live {
		in.printf(" (by this inspector, read-only: no activity)")
	}
	in.printf("\n  appends                %d (%d pages)\n  truncates              %d\n  corruptions            %d\n", r.Appends, r.AppendedPages, r.Truncates, r.Corruptions)
	in.printf("replication\n")
	switch {
	case r.Sessions == nil:
		in.printf("  sessions               - (known only to a running peer)\n")
	default:
		in.printf("  sessions               %d\n", len(r.Sessions))
		for _, s := range r.Sessions {
			in.printf("    %s\n", s)
		}
	}
	in.printf("  heads received         %d\n  verification failures  %d\n  equivocations          %d\n", r.ReceivedHeads, r.VerificationFailures, r.Equivocations)
	if ps := r.Peerstore; ps != nil {
		in.printf("peerstore\n  peers                  %d (%d with addresses, %d addresses)\n", ps.Peers, ps.PeersWithAddrs, ps.Addrs)
		in.printf("  journal                %d pages, %d flushes, %d checkpoints, %d pending changes, %d errors\n", ps.JournalLength, ps.Flushes, ps.Checkpoints, ps.PendingChanges, ps.Errors)
	}
	p := r.Pebble
	in.printf("pebble\n")
	tw := tabwriter.NewWriter(in.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  level\ttables\tbytes\tsublevels\t\n")
	for _, l := range p.Levels {
		fmt.Fprintf(tw, "  L%d\t%d\t%d\t%d\t\n", l.Level, l.Tables, l.Bytes, l.Sublevels)
	}
	tw.Flush()
	in.printf("  read amplification     %d\n  memtables              %d (%d bytes)\n  WAL                    %d files, %d bytes\n", p.ReadAmp, p.MemTables, p.MemTableBytes, p.WALFiles, p.WALBytes)
	in.printf("  flushes                %d\n  compactions            %d (debt %d bytes)\n", p.Flushes, p.Compactions, p.CompactionDebt)
	in.printf("  block cache            %d bytes, %d hits, %d misses\n  open snapshots         %d\n  tombstones             %d\n", p.CacheBytes, p.CacheHits, p.CacheMisses, p.Snapshots, p.Tombstones)
}
