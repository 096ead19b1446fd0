package peerstore

import (
	"runtime"
	"sync"
)

// A large flush (Close with a backlog, a burst) is captured and encoded
// by up to maxFlushParts goroutines, each with its share of the dirty
// peers and its own buffers and encoder; the pages are then appended in
// one series, as from one goroutine. A small flush stays on the flusher
// goroutine: starting goroutines would cost more than it saves.
const (
	minPartPeers  = 1024 // fewest peers worth a goroutine
	maxFlushParts = 4
)

// captureEncode captures sc.ids' books sc.bs, calls unlock once every
// share is captured, and returns the encoded pages and their size.
func (j *journal) captureEncode(unlock func()) ([][]byte, int64) {
	sc := &j.sc
	n := min(runtime.GOMAXPROCS(0), maxFlushParts, max(1, len(sc.ids)/minPartPeers))
	if len(sc.parts) < n {
		sc.parts = append(sc.parts, make([]part, n-len(sc.parts))...)
	}
	now := j.o.Clock.Now().UnixNano()
	work := func(i int, captured func()) {
		p := &sc.parts[i]
		lo, hi := i*len(sc.ids)/n, (i+1)*len(sc.ids)/n
		p.snaps, p.addrs = j.pr.captureInto(p.snaps[:0], p.addrs[:0], sc.ids[lo:hi], sc.bs[lo:hi])
		captured()
		j.encode(p, now)
	}
	if n == 1 {
		work(0, unlock)
	} else {
		var captured, encoded sync.WaitGroup
		captured.Add(n)
		for i := range n {
			encoded.Go(func() { work(i, captured.Done) })
		}
		captured.Wait()
		unlock()
		encoded.Wait()
	}
	sc.pages = sc.pages[:0]
	var size int64
	for i := range n {
		sc.pages = append(sc.pages, sc.parts[i].pages...)
		size += sc.parts[i].size
	}
	return sc.pages, size
}
