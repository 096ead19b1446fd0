package cenc

import "encoding/binary"

// AppendUint appends v in compact-encoding's uint form (1, 3, 5 or 9 bytes).
func AppendUint(dst []byte, v uint64) []byte {
	switch {
	case v < 0xFD:
		return append(dst, byte(v))
	case v <= 0xFFFF:
		return binary.LittleEndian.AppendUint16(append(dst, 0xFD), uint16(v))
	case v <= 0xFFFFFFFF:
		return binary.LittleEndian.AppendUint32(append(dst, 0xFE), uint32(v))
	default:
		return binary.LittleEndian.AppendUint64(append(dst, 0xFF), v)
	}
}

// UintSize is the number of bytes AppendUint writes for v.
func UintSize(v uint64) int {
	switch {
	case v < 0xFD:
		return 1
	case v <= 0xFFFF:
		return 3
	case v <= 0xFFFFFFFF:
		return 5
	default:
		return 9
	}
}

// AppendBuffer appends a length-prefixed buffer. A nil or empty b encodes
// as Node's null buffer (length 0).
func AppendBuffer(dst, b []byte) []byte {
	return append(AppendUint(dst, uint64(len(b))), b...)
}

// AppendString appends a length-prefixed UTF-8 string.
func AppendString(dst []byte, s string) []byte {
	return append(AppendUint(dst, uint64(len(s))), s...)
}

// AppendUint32Array appends compact-encoding's uint32array: a uint count
// followed by that many u32le words.
func AppendUint32Array(dst []byte, words []uint32) []byte {
	dst = AppendUint(dst, uint64(len(words)))
	for _, w := range words {
		dst = binary.LittleEndian.AppendUint32(dst, w)
	}
	return dst
}
