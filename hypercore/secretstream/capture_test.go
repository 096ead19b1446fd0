package secretstream

import (
	"bytes"
	"testing"

	"github.com/folio-p2p/folio/hypercore/internal/fixture"
)

// TestCapturedFrames decrypts every frame of the captured Node sessions
// with the recorded keys, compares the plaintexts with the transcript, and
// re-seals them to get the captured ciphertexts back byte for byte (so
// Push is libsodium's push, not merely compatible with our Pull).
func TestCapturedFrames(t *testing.T) {
	for _, mode := range []string{"compat-mode", "default-mode"} {
		s := fixture.Load(t, mode)
		wantC2S, wantS2C := fixture.Plaintexts(t, mode)
		var hash [64]byte
		copy(hash[:], fixture.Hex(t, s.Client.HandshakeHash))
		for _, dir := range []struct {
			name      string
			frames    [][]byte // after the handshake messages
			key       string
			initiator bool
			want      [][]byte
		}{
			{"c2s", fixture.Frames(t, s.C2S)[2:], s.Client.Tx, true, wantC2S},
			{"s2c", fixture.Frames(t, s.S2C)[1:], s.Server.Tx, false, wantS2C},
		} {
			hdr := dir.frames[0]
			if id := StreamID(hash, dir.initiator); len(hdr) != 56 || !bytes.Equal(hdr[:32], id[:]) {
				t.Fatalf("%s %s: stream id %x, want %x", mode, dir.name, hdr[:32], id)
			}
			key := fixture.Hex(t, dir.key)
			pull, err := NewPuller(key, hdr[32:])
			if err != nil {
				t.Fatal(err)
			}
			push, _ := NewPusher(key, hdr[32:])
			msgs := dir.frames[1:]
			if len(msgs) != len(dir.want) {
				t.Fatalf("%s %s: %d frames, transcript has %d", mode, dir.name, len(msgs), len(dir.want))
			}
			for i, f := range msgs {
				orig := append([]byte(nil), f...)
				m, tag, err := pull.Pull(f)
				if err != nil || tag != TagMessage {
					t.Fatalf("%s %s frame %d: tag %d, %v", mode, dir.name, i, tag, err)
				}
				if !bytes.Equal(m, dir.want[i]) {
					t.Fatalf("%s %s frame %d: %x, transcript %x", mode, dir.name, i, m, dir.want[i])
				}
				if again := push.Push(nil, m, TagMessage); !bytes.Equal(again, orig) {
					t.Fatalf("%s %s frame %d: push gives %x, captured %x", mode, dir.name, i, again, orig)
				}
			}
		}
	}
}

// TestCorruptedFrame: flipping any bit of a sealed frame fails Pull and
// leaves the state able to read the genuine frame.
func TestCorruptedFrame(t *testing.T) {
	key, hdr := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 24)
	push, _ := NewPusher(key, hdr)
	pull, _ := NewPuller(key, hdr)
	f := push.Push(nil, []byte("hello, hypercore"), TagMessage)
	for i := 0; i < len(f)*8; i += 7 {
		bad := append([]byte(nil), f...)
		bad[i/8] ^= 1 << (i % 8)
		if _, _, err := pull.Pull(bad); err != ErrAuth {
			t.Fatalf("bit %d: %v", i, err)
		}
	}
	if m, _, err := pull.Pull(f); err != nil || string(m) != "hello, hypercore" {
		t.Fatalf("genuine frame after forgeries: %q %v", m, err)
	}
	if _, _, err := pull.Pull(make([]byte, 16)); err != ErrAuth {
		t.Fatalf("short frame: %v", err)
	}
}

// TestRekey: a REKEY tag and a counter wrap re-derive the key on both
// sides identically.
func TestRekey(t *testing.T) {
	key, hdr := bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{4}, 24)
	push, _ := NewPusher(key, hdr)
	pull, _ := NewPuller(key, hdr)
	push.s.nonce[0], push.s.nonce[1], push.s.nonce[2], push.s.nonce[3] = 0xfe, 0xff, 0xff, 0xff
	copy(pull.s.nonce[:4], push.s.nonce[:4])
	for i, tag := range []byte{TagMessage, TagRekey, TagMessage, TagMessage, TagMessage} {
		m, got, err := pull.Pull(push.Push(nil, []byte{byte(i)}, tag))
		if err != nil || got != tag || m[0] != byte(i) {
			t.Fatalf("message %d: %v %d", i, err, got)
		}
	}
}

func FuzzPull(f *testing.F) {
	key, hdr := bytes.Repeat([]byte{5}, 32), bytes.Repeat([]byte{6}, 24)
	push, _ := NewPusher(key, hdr)
	f.Add(push.Push(nil, []byte("seed"), TagMessage))
	f.Fuzz(func(t *testing.T, frame []byte) {
		pull, _ := NewPuller(key, hdr)
		want := append([]byte(nil), frame...)
		m, tag, err := pull.Pull(frame)
		if err != nil {
			return
		}
		// Anything that authenticates must be what Push makes of it.
		p, _ := NewPusher(key, hdr)
		if !bytes.Equal(p.Push(nil, m, tag), want) {
			t.Fatal("accepted a frame Push would not produce")
		}
	})
}
