package wire

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/folio-p2p/folio/hypercore/cenc"
	"github.com/folio-p2p/folio/hypercore/internal/fixture"
)

// plaintexts returns every decrypted frame of a captured session.
func plaintexts(t *testing.T, mode string) [][]byte {
	c2s, s2c := fixture.Plaintexts(t, mode)
	return append(c2s, s2c...)
}

// TestCapturedMessagesRoundTrip decodes every direct channel message
// (frames starting with channel id 1) Node sent and checks that encoding
// the result gives back the same bytes.
func TestCapturedMessagesRoundTrip(t *testing.T) {
	for _, mode := range []string{"compat-mode", "default-mode"} {
		counts := map[uint64]int{}
		for _, p := range plaintexts(t, mode) {
			if p[0] != 1 {
				continue // control frames: protomux's business
			}
			d := cenc.NewDecoder(p[1:])
			typ := d.Uint()
			body := d.Rest()
			m, err := Decode(typ, body)
			if err != nil {
				t.Fatalf("%s: %x: %v", mode, p, err)
			}
			if got := m.Append(nil); !bytes.Equal(got, body) {
				t.Errorf("%s: type %d re-encodes to %x, captured %x", mode, typ, got, body)
			}
			counts[typ]++
		}
		if counts[TypeSync] == 0 || counts[TypeRequest] == 0 || counts[TypeData] < 10 {
			t.Errorf("%s: decoded %v", mode, counts)
		}
	}
}

// TestCapturedUpgradeAndBlocks checks decoded fields against what the
// transcript's decoder printed for the compat session.
func TestCapturedUpgradeAndBlocks(t *testing.T) {
	var up *DataUpgrade
	blocks := map[uint64]*DataBlock{}
	for _, p := range plaintexts(t, "compat-mode") {
		if p[0] != 1 || p[1] != TypeData {
			continue
		}
		m, err := Decode(TypeData, p[2:])
		if err != nil {
			t.Fatal(err)
		}
		d := m.(*Data)
		if d.Upgrade != nil {
			up = d.Upgrade
		}
		if d.Block != nil {
			blocks[d.Block.Index] = d.Block
		}
	}
	if up == nil || up.Start != 0 || up.Length != 10 || len(up.Nodes) != 2 || len(up.AdditionalNodes) != 0 {
		t.Fatalf("upgrade: %+v", up)
	}
	if up.Nodes[0].Index != 7 || up.Nodes[0].Size != 56 || up.Nodes[1].Index != 17 || up.Nodes[1].Size != 14 {
		t.Errorf("upgrade roots: %v", up.Nodes)
	}
	if hex.EncodeToString(up.Signature[:8]) != "1e305654ff6d6748" || len(up.Signature) != 64 {
		t.Errorf("signature %x", up.Signature)
	}
	for i := uint64(0); i < 10; i++ {
		b := blocks[i]
		if b == nil || string(b.Value) != fmt.Sprintf("block-%d", i) {
			t.Fatalf("block %d: %+v", i, b)
		}
	}
	if idx := []uint64{blocks[0].Nodes[0].Index, blocks[0].Nodes[1].Index, blocks[0].Nodes[2].Index}; idx[0] != 2 || idx[1] != 5 || idx[2] != 11 {
		t.Errorf("block 0 proof indices %v, want 2 5 11", idx)
	}
}
