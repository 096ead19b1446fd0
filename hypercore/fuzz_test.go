package hypercore

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/folio-p2p/folio/hypercore/internal/fixture"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// FuzzDataMessage feeds arbitrary data messages to the proof translation
// and the book of a reader that holds the captured session's first
// upgrade: nothing may panic, and whatever applies must verify (the book
// checks it; the fuzzer cannot forge the writer's signature).
func FuzzDataMessage(f *testing.F) {
	_, s2c := fixture.Plaintexts(f, "compat-mode")
	var seeds []*wire.Data
	for _, fr := range s2c {
		if len(fr) > 2 && fr[0] == 1 && fr[1] == wire.TypeData {
			f.Add(fr[2:])
			m, _ := wire.Decode(wire.TypeData, fr[2:])
			seeds = append(seeds, m.(*wire.Data))
		}
	}
	s := fixture.Load(f, "compat-mode")
	key := ed25519.PublicKey(fixture.Hex(f, s.Server.Key))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wire.Decode(wire.TypeData, b)
		if err != nil {
			return
		}
		r := openBook(t, key, nil)
		if err := applyData(context.Background(), r, seeds[0]); err != nil {
			t.Fatal(err)
		}
		_ = applyData(context.Background(), r, m.(*wire.Data))
	})
}

// FuzzRequest feeds arbitrary requests to the prover over a book of 37
// pages: it answers or refuses (no_data), never panics, and what it
// answers has a bounded number of nodes.
func FuzzRequest(f *testing.F) {
	c2s, _ := fixture.Plaintexts(f, "compat-mode")
	for _, fr := range c2s {
		if len(fr) > 2 && fr[0] == 1 && fr[1] == wire.TypeRequest {
			f.Add(fr[2:])
		}
	}
	_, sk, _ := ed25519.GenerateKey(nil)
	w := writer(f, sk, pages(37, "f")...)
	snap, err := w.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { snap.Close() })
	p := &prover{src: snap, head: snap.Head()}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wire.Decode(wire.TypeRequest, b)
		if err != nil {
			return
		}
		d, err := p.prove(m.(*wire.Request))
		if err != nil {
			return
		}
		n := 0
		if d.Block != nil {
			n += len(d.Block.Nodes)
		}
		if d.Upgrade != nil {
			n += len(d.Upgrade.Nodes) + len(d.Upgrade.AdditionalNodes)
		}
		if n > 64 {
			t.Fatalf("%d nodes for a tree of 37 pages", n)
		}
	})
}
