package db

import (
	"github.com/cockroachdb/pebble/v2"
)

// Metrics is a plain snapshot of the DB's state and counters.
type Metrics struct {
	Books     int    // books in the catalogue
	OpenBooks int    // books with an open handle
	Pages     uint64 // signed pages of the open books
	Bytes     uint64 // signed bytes of the open books
	DiskUsage uint64 // bytes Pebble uses on disk

	Appends              uint64 // local appends since open
	AppendedPages        uint64 // pages they added
	ReceivedHeads        uint64 // verified heads from elsewhere that grew a book
	Truncates            uint64
	VerificationFailures uint64
	Equivocations        uint64
	Corruptions          uint64

	WriteStalls StallMetrics  // Pebble holding writes back (flushes or compactions behind)
	Pacing      PacingMetrics // appends held back to spread a flush (Options.NoWritePacing)

	Pebble *pebble.Metrics // Pebble's own metrics
}

// Metrics returns the current metrics. It counts the catalogue, so it
// costs one scan of it.
func (d *DB) Metrics() (*Metrics, error) {
	infos, err := d.Books()
	if err != nil {
		return nil, err
	}
	m := &Metrics{Books: len(infos)}
	d.mu.Lock()
	for _, b := range d.books {
		if b.Closed() {
			continue
		}
		m.OpenBooks++
		m.Pages += b.Length()
		m.Bytes += b.ByteLength()
	}
	d.mu.Unlock()
	c := &d.counters
	m.Appends, m.AppendedPages = c.appends.Load(), c.appendedPages.Load()
	m.ReceivedHeads, m.Truncates = c.received.Load(), c.truncates.Load()
	m.VerificationFailures, m.Equivocations = c.verifyFailed.Load(), c.equivocations.Load()
	m.Corruptions = c.corruptions.Load()
	m.WriteStalls = d.stalls.Metrics()
	if d.pacer != nil {
		m.Pacing = d.pacer.metrics()
	}
	m.Pebble = d.pdb.Metrics()
	m.DiskUsage = m.Pebble.DiskSpaceUsage()
	return m, nil
}
