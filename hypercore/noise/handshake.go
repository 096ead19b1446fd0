package noise

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	fnoise "github.com/flynn/noise"
)

// ErrHandshake wraps every failure of the handshake itself (bad message,
// bad point, decryption failure); I/O errors are returned as they are.
var ErrHandshake = errors.New("noise: handshake failed")

// suite is hypercore's cipher suite; its name makes the protocol name
// Noise_XX_Ed25519_ChaChaPoly_BLAKE2b.
var suite = fnoise.NewCipherSuite(ed25519DH{}, fnoise.CipherChaChaPoly, fnoise.HashBLAKE2b)

// Config configures one handshake.
type Config struct {
	// Initiator is true on the side that connected (hypercore's
	// isInitiator); it sends the first message.
	Initiator bool
	// Static is this side's Noise key pair. Default: a fresh random one
	// (hypercore uses a random key per stream unless told otherwise).
	Static ed25519.PrivateKey
	// Ephemeral fixes the ephemeral key pair, for reproducing recorded
	// handshakes in tests only. Default: random.
	Ephemeral ed25519.PrivateKey
	// Timeout bounds the whole handshake when the connection supports
	// deadlines. Default: 10 s.
	Timeout time.Duration
}

// Result is what the handshake establishes.
type Result struct {
	// Hash is the final handshake hash: the stream ids and hypercore's
	// capabilities are keyed with it.
	Hash [64]byte
	// Tx and Rx are the raw split keys for this side's sending and
	// receiving direction.
	Tx, Rx [32]byte
	// RemoteStatic is the peer's Noise static public key.
	RemoteStatic ed25519.PublicKey
	// Messages are the three handshake messages in order (without their
	// u24 prefix), for tests and diagnostics.
	Messages [3][]byte
}

// maxHandshakeMsg bounds the messages a peer can send during the
// handshake: empty payloads give 32, 96 and 64 bytes.
const maxHandshakeMsg = 1024

func keyOf(priv ed25519.PrivateKey) fnoise.DHKey {
	return fnoise.DHKey{Private: priv, Public: priv.Public().(ed25519.PublicKey)}
}

// Handshake runs Noise XX over conn. If conn is a net.Conn, the deadline
// from ctx and cfg.Timeout applies and is cleared on return.
func Handshake(ctx context.Context, conn io.ReadWriter, cfg Config) (*Result, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if nc, ok := conn.(net.Conn); ok {
		stop := bindDeadline(ctx, nc, cfg.Timeout)
		defer stop()
	}
	nc := fnoise.Config{CipherSuite: suite, Random: rand.Reader, Pattern: fnoise.HandshakeXX, Initiator: cfg.Initiator}
	if cfg.Static == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		cfg.Static = priv
	}
	nc.StaticKeypair = keyOf(cfg.Static)
	if cfg.Ephemeral != nil {
		// flynn/noise draws the ephemeral key from Random (32 bytes, the
		// Ed25519 seed), whatever EphemeralKeypair says.
		nc.Random = bytes.NewReader(cfg.Ephemeral.Seed())
	}
	hs, err := fnoise.NewHandshakeState(nc)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	var send, recv *fnoise.CipherState
	for i := 0; i < 3; i++ {
		mine := (i%2 == 0) == cfg.Initiator
		var cs1, cs2 *fnoise.CipherState
		if mine {
			var msg []byte
			msg, cs1, cs2, err = hs.WriteMessage(nil, nil)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
			}
			if err := WriteFrame(conn, msg); err != nil {
				return nil, err
			}
			res.Messages[i] = msg
		} else {
			msg, err := ReadFrame(conn, maxHandshakeMsg)
			if err != nil {
				return nil, err
			}
			if _, cs1, cs2, err = hs.ReadMessage(nil, msg); err != nil {
				return nil, fmt.Errorf("%w: message %d: %w", ErrHandshake, i+1, err)
			}
			res.Messages[i] = msg
		}
		if cs1 != nil {
			send, recv = cs1, cs2
		}
	}
	if send == nil {
		return nil, fmt.Errorf("%w: no split", ErrHandshake)
	}
	if !cfg.Initiator {
		send, recv = recv, send
	}
	copy(res.Hash[:], hs.ChannelBinding())
	res.Tx, res.Rx = send.UnsafeKey(), recv.UnsafeKey()
	res.RemoteStatic = append(ed25519.PublicKey(nil), hs.PeerStatic()...)
	return res, nil
}

// bindDeadline makes ctx's cancellation and the timeout interrupt blocked
// I/O on nc; the returned func clears the deadline.
func bindDeadline(ctx context.Context, nc net.Conn, timeout time.Duration) func() {
	dl := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = nc.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	return func() {
		stop()
		_ = nc.SetDeadline(time.Time{})
	}
}
