package noise

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/folio-p2p/folio/hypercore/internal/fixture"
)

func key(t *testing.T, seedHex string) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(fixture.Hex(t, seedHex))
}

// TestReproducesCapturedHandshake replays the recorded seeds of a real
// Node session and checks the three messages, the handshake hash and the
// split keys byte for byte, for both roles.
func TestReproducesCapturedHandshake(t *testing.T) {
	for _, mode := range []string{"compat-mode", "default-mode"} {
		s := fixture.Load(t, mode)
		c2s, s2c := fixture.Frames(t, s.C2S), fixture.Frames(t, s.S2C)
		want := [3][]byte{c2s[0], s2c[0], c2s[1]}
		a, b := net.Pipe()
		type out struct {
			r   *Result
			err error
		}
		ch := make(chan out, 1)
		go func() {
			r, err := Handshake(context.Background(), b, Config{Static: key(t, s.Server.NoiseStaticSeed), Ephemeral: key(t, s.Server.EphemeralSeeds[0])})
			ch <- out{r, err}
		}()
		ri, err := Handshake(context.Background(), a, Config{Initiator: true, Static: key(t, s.Client.NoiseStaticSeed), Ephemeral: key(t, s.Client.EphemeralSeeds[0])})
		if err != nil {
			t.Fatal(err)
		}
		o := <-ch
		if o.err != nil {
			t.Fatal(o.err)
		}
		for i := range want {
			if !bytes.Equal(ri.Messages[i], want[i]) || !bytes.Equal(o.r.Messages[i], want[i]) {
				t.Errorf("%s: message %d = %x, captured %x", mode, i+1, ri.Messages[i], want[i])
			}
		}
		for _, c := range []struct {
			name      string
			got, want []byte
		}{
			{"initiator hash", ri.Hash[:], fixture.Hex(t, s.Client.HandshakeHash)},
			{"responder hash", o.r.Hash[:], fixture.Hex(t, s.Server.HandshakeHash)},
			{"initiator tx", ri.Tx[:], fixture.Hex(t, s.Client.Tx)},
			{"initiator rx", ri.Rx[:], fixture.Hex(t, s.Client.Rx)},
			{"responder tx", o.r.Tx[:], fixture.Hex(t, s.Server.Tx)},
			{"responder rx", o.r.Rx[:], fixture.Hex(t, s.Server.Rx)},
			{"initiator's remote static", ri.RemoteStatic, fixture.Hex(t, s.Client.RemoteStatic)},
			{"responder's remote static", o.r.RemoteStatic, fixture.Hex(t, s.Server.RemoteStatic)},
		} {
			if !bytes.Equal(c.got, c.want) {
				t.Errorf("%s: %s = %x, recorded %x", mode, c.name, c.got, c.want)
			}
		}
		a.Close()
		b.Close()
	}
}

// TestTruncatedHandshake: a peer that stops mid-message gives an I/O
// error, not a hang or a half-made session.
func TestTruncatedHandshake(t *testing.T) {
	a, b := net.Pipe()
	go func() {
		_, _ = b.Write([]byte{0x20, 0, 0, 1, 2, 3})
		b.Close()
	}()
	_, err := Handshake(context.Background(), a, Config{})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("responder on truncated msg1: %v", err)
	}
	// A silent peer: the context ends the wait.
	a, b = net.Pipe()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Handshake(ctx, a, Config{}); err == nil {
		t.Fatal("handshake with a silent peer succeeded")
	}
}

func TestFrameLimit(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFrame(&buf, make([]byte, 300)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFrame(bytes.NewReader(buf.Bytes()), 299); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("over limit: %v", err)
	}
	if b, err := ReadFrame(&buf, 300); err != nil || len(b) != 300 {
		t.Fatalf("at limit: %d %v", len(b), err)
	}
}

// TestDHRejectsBadPoints mirrors libsodium's refusals.
func TestDHRejectsBadPoints(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	identity := make([]byte, 32)
	identity[0] = 1
	// A point of order 8 and y = p (non-canonical encoding of y = 0).
	order8, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	nonCanonical, _ := hex.DecodeString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	pub, _, _ := ed25519.GenerateKey(nil)
	mixed := addTorsion(t, pub, order8)
	for name, p := range map[string][]byte{"identity": identity, "order 8": order8, "non-canonical": nonCanonical, "torsion": mixed, "short": pub[:31]} {
		if _, err := DH(priv, p); !errors.Is(err, ErrBadPoint) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := DH(priv, pub); err != nil {
		t.Errorf("valid point: %v", err)
	}
}
