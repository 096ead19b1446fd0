package cenc

import (
	"encoding/binary"
	"errors"
)

var (
	// ErrShort means a message ended before a field it announced.
	ErrShort = errors.New("cenc: message too short")
	// ErrTooLarge means a length or count exceeds what the caller allows.
	ErrTooLarge = errors.New("cenc: value too large")
)

// Decoder reads fields from one message. The zero value is an empty
// message. After the first error every read returns a zero value and Err
// reports that error.
type Decoder struct {
	buf []byte
	err error
}

// NewDecoder returns a Decoder over b. Buffers it returns alias b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err is the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Len is the number of bytes not read yet.
func (d *Decoder) Len() int { return len(d.buf) }

// Fail records err (if no error is recorded yet), for callers that find a
// field semantically invalid.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
		d.buf = nil
	}
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf) {
		d.Fail(ErrShort)
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

// Uint reads one compact-encoding uint.
func (d *Decoder) Uint() uint64 {
	b := d.take(1)
	if b == nil {
		return 0
	}
	switch b[0] {
	case 0xFD:
		if p := d.take(2); p != nil {
			return uint64(binary.LittleEndian.Uint16(p))
		}
	case 0xFE:
		if p := d.take(4); p != nil {
			return uint64(binary.LittleEndian.Uint32(p))
		}
	case 0xFF:
		if p := d.take(8); p != nil {
			return binary.LittleEndian.Uint64(p)
		}
	default:
		return uint64(b[0])
	}
	return 0
}

// Count reads a uint that counts items of at least minSize bytes each and
// fails with ErrTooLarge when the rest of the message cannot hold that
// many or when it exceeds limit, so callers may allocate the result.
func (d *Decoder) Count(minSize, limit int) int {
	n := d.Uint()
	if d.err != nil {
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if n > uint64(limit) || n > uint64(len(d.buf)/minSize) {
		d.Fail(ErrTooLarge)
		return 0
	}
	return int(n)
}

// Fixed reads exactly n bytes.
func (d *Decoder) Fixed(n int) []byte { return d.take(n) }

// Fixed32 reads 32 bytes.
func (d *Decoder) Fixed32() (out [32]byte) {
	copy(out[:], d.take(32))
	return out
}

// Buffer reads a length-prefixed buffer; length 0 gives nil (Node's null).
func (d *Decoder) Buffer() []byte {
	n := d.Uint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(d.buf)) {
		d.Fail(ErrShort)
		return nil
	}
	return d.take(int(n))
}

// String reads a length-prefixed string.
func (d *Decoder) String() string { return string(d.Buffer()) }

// Uint32Array reads a uint count then that many u32le words, at most limit.
func (d *Decoder) Uint32Array(limit int) []uint32 {
	n := d.Count(4, limit)
	if d.err != nil {
		return nil
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(d.take(4))
	}
	return out
}

// Rest returns every byte not read yet (compact-encoding's raw).
func (d *Decoder) Rest() []byte { return d.take(len(d.buf)) }
