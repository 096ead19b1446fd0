package hypercore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/cenc"
	"github.com/folio-p2p/folio/hypercore/internal/fixture"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// channelMessages returns the hypercore messages in captured frames,
// batches unpacked, in order.
func channelMessages(t *testing.T, frames [][]byte) []wire.Message {
	var out []wire.Message
	add := func(typ uint64, body []byte) {
		m, err := wire.Decode(typ, body)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	for _, f := range frames {
		d := cenc.NewDecoder(f)
		ch, typ := d.Uint(), d.Uint()
		switch {
		case ch != 0:
			add(typ, d.Rest())
		case typ == 0: // batch
			d.Uint()
			for d.Len() > 0 {
				n := d.Uint()
				if n == 0 {
					d.Uint()
					continue
				}
				e := cenc.NewDecoder(d.Fixed(int(n)))
				add(e.Uint(), e.Rest())
			}
		}
	}
	return out
}

func fixtureBlocks() [][]byte {
	var pages [][]byte
	for i := 0; i < 10; i++ {
		pages = append(pages, []byte(fmt.Sprintf("block-%d", i)))
	}
	return pages
}

// TestServeMatchesNode: a folio book holding the fixture's ten blocks,
// signed with the fixture's writer key, answers every request the Node
// reader sent with the very bytes the Node writer sent.
func TestServeMatchesNode(t *testing.T) {
	s := fixture.Load(t, "compat-mode")
	c2s, s2c := fixture.Plaintexts(t, "compat-mode")
	sk := ed25519.NewKeyFromSeed(fixture.Hex(t, s.Server.WriterSeed))
	b := writer(t, sk, fixtureBlocks()...)
	if hex.EncodeToString(b.Key()) != s.Server.Key {
		t.Fatalf("key %x", b.Key())
	}
	var sent []*wire.Data
	for _, m := range channelMessages(t, s2c) {
		if d, ok := m.(*wire.Data); ok {
			sent = append(sent, d)
		}
	}
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	p := &prover{src: snap, head: snap.Head()}
	i := 0
	for _, m := range channelMessages(t, c2s) {
		req, ok := m.(*wire.Request)
		if !ok {
			continue
		}
		d, err := p.prove(req)
		if err != nil {
			t.Fatal(err)
		}
		if d.Block != nil {
			d.Block.Value, _ = snap.Get(d.Block.Index)
		}
		if got, want := d.Append(nil), sent[i].Append(nil); !bytes.Equal(got, want) {
			t.Errorf("request %d: we answer %x, Node answered %x", i, got, want)
		}
		i++
	}
	if i != 11 {
		t.Fatalf("%d requests", i)
	}
}

// TestFetchVerifiesNodeProofs: a read-only book applies every data
// message the Node writer sent, translated, and ends with the writer's
// tree hash and blocks.
func TestFetchVerifiesNodeProofs(t *testing.T) {
	s := fixture.Load(t, "compat-mode")
	_, s2c := fixture.Plaintexts(t, "compat-mode")
	key := ed25519.PublicKey(fixture.Hex(t, s.Server.Key))
	b := openBook(t, key, nil)
	ctx := context.Background()
	for _, m := range channelMessages(t, s2c) {
		d, ok := m.(*wire.Data)
		if !ok {
			continue
		}
		if err := applyData(ctx, b, d); err != nil {
			t.Fatalf("data for request %d: %v", d.Request, err)
		}
	}
	h, _ := b.Head()
	if h.Length != 10 || hex.EncodeToString(h.TreeHash[:]) != s.Server.TreeHash {
		t.Fatalf("head %d %x", h.Length, h.TreeHash)
	}
	for i, want := range fixtureBlocks() {
		got, err := b.Get(ctx, uint64(i), &book.GetOptions{})
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("block %d: %q %v", i, got, err)
		}
	}
}
