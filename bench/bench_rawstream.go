package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// rawProtocol carries the replicate shape's baseline: the book's page bytes
// written as they are over one stream, with no framing, proof or storage.
const rawProtocol = protocol.ID("/folio/bench-raw/1.0.0")

// rawChunk is how much the baseline writes per Write, the size of one
// replication answer (db.ReplicateOptions.MaxRangeBytes' default).
const rawChunk = 512 << 10

// rawCopy times the pages' bytes copied from the writer's host to the
// reader's over one new stream: from opening it until the reader has read
// every byte.
func (p *replPair) rawCopy(ctx context.Context, pages [][]byte) (time.Duration, error) {
	total := 0
	for _, pg := range pages {
		total += len(pg)
	}
	done := make(chan error, 1)
	p.wh.SetStreamHandler(rawProtocol, func(s network.Stream) {
		defer s.Close()
		buf := make([]byte, 0, rawChunk)
		for _, pg := range pages {
			if len(buf)+len(pg) > rawChunk && len(buf) > 0 {
				if _, err := s.Write(buf); err != nil {
					done <- err
					return
				}
				buf = buf[:0]
			}
			buf = append(buf, pg...)
		}
		_, err := s.Write(buf)
		done <- err
	})
	defer p.wh.RemoveStreamHandler(rawProtocol)
	t := time.Now()
	s, err := p.rh.NewStream(ctx, p.wh.ID(), rawProtocol)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	// The first byte only goes out when the writer starts: write nothing,
	// just read; NewStream negotiates lazily on the first read.
	n, err := io.Copy(io.Discard, s)
	took := time.Since(t)
	if err != nil {
		return 0, err
	}
	if werr := <-done; werr != nil {
		return 0, werr
	}
	if int(n) != total {
		return 0, fmt.Errorf("raw stream: read %d of %d bytes", n, total)
	}
	return took, nil
}
