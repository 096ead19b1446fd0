package secretstream

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/poly1305" //nolint:staticcheck // libsodium's construction needs raw Poly1305
)

// Sizes of libsodium's crypto_secretstream_xchacha20poly1305.
const (
	KeySize    = 32
	HeaderSize = 24
	// Overhead is what Push adds to a message: tag byte and MAC.
	Overhead = 17
)

// Tags (libsodium's crypto_secretstream_xchacha20poly1305_TAG_*).
const (
	TagMessage = 0
	TagPush    = 1
	TagRekey   = 2
	TagFinal   = TagPush | TagRekey
)

// ErrAuth means a frame failed authentication: corrupted, forged,
// reordered or replayed.
var ErrAuth = errors.New("secretstream: message forged or corrupted")

// state is one direction of a secretstream: key, and nonce = 32-bit
// counter ‖ 64-bit inner nonce.
type state struct {
	k     [32]byte
	nonce [12]byte
}

func newState(key, header []byte) (*state, error) {
	if len(key) != KeySize || len(header) != HeaderSize {
		return nil, errors.New("secretstream: bad key or header size")
	}
	s := &state{}
	k, err := chacha20.HChaCha20(key, header[:16])
	if err != nil {
		return nil, err
	}
	copy(s.k[:], k)
	copy(s.nonce[4:], header[16:])
	s.resetCounter()
	return s, nil
}

func (s *state) resetCounter() { binary.LittleEndian.PutUint32(s.nonce[:4], 1) }

// stream returns the ChaCha20 keystream for the current nonce at block ic.
func (s *state) stream(ic uint32) *chacha20.Cipher {
	c, _ := chacha20.NewUnauthenticatedCipher(s.k[:], s.nonce[:])
	c.SetCounter(ic)
	return c
}

// mac computes the Poly1305 tag over block (tag byte + keystream) and c.
func (s *state) mac(block *[64]byte, c []byte) [16]byte {
	var pk [32]byte
	s.stream(0).XORKeyStream(pk[:], pk[:])
	m := poly1305.New(&pk)
	// No additional data: its pad is empty too.
	_, _ = m.Write(block[:])
	_, _ = m.Write(c)
	var pad [16]byte
	// libsodium pads by (0x10 - 64 + mlen) & 0xf, which is mlen mod 16.
	_, _ = m.Write(pad[:len(c)&0xf])
	var lens [16]byte
	binary.LittleEndian.PutUint64(lens[8:], uint64(64+len(c)))
	_, _ = m.Write(lens[:])
	var out [16]byte
	copy(out[:], m.Sum(nil))
	return out
}

// advance folds the MAC into the inner nonce and steps the counter,
// rekeying when the tag asks or the counter wraps.
func (s *state) advance(mac [16]byte, tag byte) {
	for i := 0; i < 8; i++ {
		s.nonce[4+i] ^= mac[i]
	}
	ctr := binary.LittleEndian.Uint32(s.nonce[:4]) + 1
	binary.LittleEndian.PutUint32(s.nonce[:4], ctr)
	if tag&TagRekey != 0 || ctr == 0 {
		s.rekey()
	}
}

func (s *state) rekey() {
	var buf [40]byte
	copy(buf[:32], s.k[:])
	copy(buf[32:], s.nonce[4:])
	s.stream(0).XORKeyStream(buf[:], buf[:])
	copy(s.k[:], buf[:32])
	copy(s.nonce[4:], buf[32:])
	s.resetCounter()
}

// Pusher seals messages (libsodium's init_push/push).
type Pusher struct{ s *state }

// NewPusher starts a stream with key and a 24-byte header the caller
// chose at random (and sends to the peer).
func NewPusher(key, header []byte) (*Pusher, error) {
	s, err := newState(key, header)
	return &Pusher{s}, err
}

// Push appends the sealed m (tag byte ‖ ciphertext ‖ MAC) to dst.
func (p *Pusher) Push(dst, m []byte, tag byte) []byte {
	var block [64]byte
	block[0] = tag
	p.s.stream(1).XORKeyStream(block[:], block[:])
	off := len(dst)
	dst = append(dst, block[0])
	dst = append(dst, m...)
	c := dst[off+1:]
	p.s.stream(2).XORKeyStream(c, c)
	mac := p.s.mac(&block, c)
	dst = append(dst, mac[:]...)
	p.s.advance(mac, tag)
	return dst
}

// Puller opens messages (libsodium's init_pull/pull).
type Puller struct{ s *state }

// NewPuller starts reading a stream with key and the peer's header.
func NewPuller(key, header []byte) (*Puller, error) {
	s, err := newState(key, header)
	return &Puller{s}, err
}

// Pull authenticates and decrypts frame in place, returning the message
// (aliasing frame) and its tag. On ErrAuth the state is unchanged.
func (p *Puller) Pull(frame []byte) ([]byte, byte, error) {
	if len(frame) < Overhead {
		return nil, 0, ErrAuth
	}
	var block [64]byte
	block[0] = frame[0]
	p.s.stream(1).XORKeyStream(block[:], block[:])
	tag := block[0]
	block[0] = frame[0]
	c := frame[1 : len(frame)-16]
	want := p.s.mac(&block, c)
	if subtle.ConstantTimeCompare(want[:], frame[len(frame)-16:]) != 1 {
		return nil, 0, ErrAuth
	}
	p.s.stream(2).XORKeyStream(c, c)
	p.s.advance(want, tag)
	return c, tag, nil
}
