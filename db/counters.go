package db

import (
	"sync/atomic"

	"github.com/folio-p2p/folio/book"
)

// counters are the DB's own running totals, kept from book events.
type counters struct {
	appends       atomic.Uint64
	appendedPages atomic.Uint64
	received      atomic.Uint64 // verified heads from elsewhere that grew a book
	truncates     atomic.Uint64
	verifyFailed  atomic.Uint64
	equivocations atomic.Uint64
	corruptions   atomic.Uint64
}

// wrap returns a listener that counts every event, then calls l.
func (c *counters) wrap(l *book.EventListener) *book.EventListener {
	return &book.EventListener{
		Appended: func(i book.AppendInfo) {
			if i.Local {
				c.appends.Add(1)
				c.appendedPages.Add(i.Length - i.Start)
			} else {
				c.received.Add(1)
			}
			if l.Appended != nil {
				l.Appended(i)
			}
		},
		Truncated: func(i book.TruncateInfo) {
			c.truncates.Add(1)
			if l.Truncated != nil {
				l.Truncated(i)
			}
		},
		VerificationFailed: func(i book.VerifyFailure) {
			c.verifyFailed.Add(1)
			if l.VerificationFailed != nil {
				l.VerificationFailed(i)
			}
		},
		Equivocation: func(i book.EquivocationInfo) {
			c.equivocations.Add(1)
			if l.Equivocation != nil {
				l.Equivocation(i)
			}
		},
		Corruption: func(i book.CorruptionInfo) {
			c.corruptions.Add(1)
			if l.Corruption != nil {
				l.Corruption(i)
			}
		},
	}
}
