package noise

import (
	"errors"
	"fmt"
	"io"
)

// MaxFrame is the largest body a u24 length prefix can announce.
const MaxFrame = 1<<24 - 1

// ErrFrameTooLarge means a frame's announced length exceeds the reader's
// limit; the connection must be closed (the stream cannot resync).
var ErrFrameTooLarge = errors.New("noise: frame too large")

// WriteFrame writes u24le(len(body)) ‖ body in one Write.
func WriteFrame(w io.Writer, body []byte) error {
	if len(body) > MaxFrame {
		return ErrFrameTooLarge
	}
	buf := make([]byte, 3+len(body))
	buf[0], buf[1], buf[2] = byte(len(body)), byte(len(body)>>8), byte(len(body)>>16)
	copy(buf[3:], body)
	_, err := w.Write(buf)
	return err
}

// AppendFrameHeader appends the u24le length prefix of an n-byte body.
func AppendFrameHeader(dst []byte, n int) []byte {
	return append(dst, byte(n), byte(n>>8), byte(n>>16))
}

// ReadFrame reads one frame whose body is at most limit bytes. The length
// is checked before the body is allocated.
func ReadFrame(r io.Reader, limit int) ([]byte, error) {
	var hdr [3]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n > limit {
		return nil, fmt.Errorf("%w: %d > %d bytes", ErrFrameTooLarge, n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}
