package db

import (
	"encoding/binary"
	"slices"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Data messages carry nearly all of a download's bytes, so they bypass the
// generic protobuf code both ways; the bytes on the wire are the same.
// appendDataFrame writes a proof's frame without building a pb.Data (the
// pages go from the proof into the frame once), and decodeData reads the
// layout it writes with the pages left in the frame's buffer, not copied.
// Anything else, or any other layout, goes through protobuf as before.

// Field numbers of db/pb/replicate.proto besides those in shape.go.
const (
	fieldDataChannel, fieldDataID, fieldDataFork = 1, 2, 3
	fieldRangeStart                              = 1
	fieldUpStart, fieldUpLength                  = 1, 2
	fieldUpSignature                             = 5
	fieldNodeIndex, fieldNodeSize, fieldNodeHash = 1, 2, 3
)

// appendDataFrame appends to dst the frame of the Data message answering
// request id on channel ch with p: what appendFrame writes for
// toPBData(ch, id, p), byte for byte.
func appendDataFrame(dst []byte, ch uint32, id uint64, p *book.Proof) []byte {
	rangeSize, upSize := rangeProofSize(p.Range), upgradeProofSize(p.Upgrade)
	size := uintField(fieldDataChannel, uint64(ch)) + uintField(fieldDataID, id) + uintField(fieldDataFork, p.Fork)
	if p.Range != nil {
		size += lenField(fieldDataRange, rangeSize)
	}
	if p.Upgrade != nil {
		size += lenField(fieldDataUpgrade, upSize)
	}
	body := lenField(fieldData, size)
	dst = slices.Grow(dst, protowire.SizeVarint(uint64(body))+body) // once, not by doubling
	dst = binary.AppendUvarint(dst, uint64(body))
	dst = protowire.AppendTag(dst, fieldData, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(size))
	dst = appendUint(dst, fieldDataChannel, uint64(ch))
	dst = appendUint(dst, fieldDataID, id)
	dst = appendUint(dst, fieldDataFork, p.Fork)
	if r := p.Range; r != nil {
		dst = protowire.AppendTag(dst, fieldDataRange, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(rangeSize))
		dst = appendUint(dst, fieldRangeStart, r.Start)
		for _, v := range r.Values {
			dst = protowire.AppendTag(dst, fieldRangeValues, protowire.BytesType)
			dst = protowire.AppendBytes(dst, v)
		}
		dst = appendNodes(dst, fieldRangeNodes, r.Nodes)
	}
	if u := p.Upgrade; u != nil {
		dst = protowire.AppendTag(dst, fieldDataUpgrade, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(upSize))
		dst = appendUint(dst, fieldUpStart, u.Start)
		dst = appendUint(dst, fieldUpLength, u.Length)
		dst = appendNodes(dst, fieldUpgradeRoots, u.Roots)
		dst = appendNodes(dst, fieldUpgradeNodes, u.Nodes)
		dst = protowire.AppendTag(dst, fieldUpSignature, protowire.BytesType)
		dst = protowire.AppendBytes(dst, u.Signature[:])
	}
	return dst
}

// uintField is the size of a varint field; proto3 leaves out zeros.
func uintField(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

// lenField is the size of a length-delimited field of n bytes.
func lenField(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func appendUint(dst []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return dst
	}
	return protowire.AppendVarint(protowire.AppendTag(dst, num, protowire.VarintType), v)
}

func nodeSize(n book.Node) int {
	return uintField(fieldNodeIndex, n.Index) + uintField(fieldNodeSize, n.Size) + lenField(fieldNodeHash, book.HashSize)
}

func nodesSize(num protowire.Number, ns []book.Node) int {
	size := 0
	for _, n := range ns {
		size += lenField(num, nodeSize(n))
	}
	return size
}

func appendNodes(dst []byte, num protowire.Number, ns []book.Node) []byte {
	for _, n := range ns {
		dst = protowire.AppendTag(dst, num, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(nodeSize(n)))
		dst = appendUint(dst, fieldNodeIndex, n.Index)
		dst = appendUint(dst, fieldNodeSize, n.Size)
		dst = protowire.AppendTag(dst, fieldNodeHash, protowire.BytesType)
		dst = protowire.AppendBytes(dst, n.Hash[:])
	}
	return dst
}

func rangeProofSize(r *book.RangeProof) int {
	if r == nil {
		return 0
	}
	size := uintField(fieldRangeStart, r.Start) + nodesSize(fieldRangeNodes, r.Nodes)
	for _, v := range r.Values {
		size += lenField(fieldRangeValues, len(v))
	}
	return size
}

func upgradeProofSize(u *book.UpgradeProof) int {
	if u == nil {
		return 0
	}
	return uintField(fieldUpStart, u.Start) + uintField(fieldUpLength, u.Length) +
		nodesSize(fieldUpgradeRoots, u.Roots) + nodesSize(fieldUpgradeNodes, u.Nodes) + lenField(fieldUpSignature, len(u.Signature))
}

// decodeData decodes b, a message body, when it is a Data in the layout
// appendDataFrame writes: each field at most once and in order (a
// repeated one in one run), no field this version does not know. The page
// values alias b. ok is false for anything else: the caller decodes it
// with protobuf, so decodeData only takes a faster path to the same
// message (FuzzDecodeData holds it to that).
func decodeData(b []byte) (_ *pb.Message, ok bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != fieldData || typ != protowire.BytesType {
		return nil, false
	}
	body, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		return nil, false
	}
	d := &pb.Data{}
	ok = eachInOrder(body, 0, 0, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
		switch {
		case num == fieldDataChannel && typ == protowire.VarintType:
			d.Channel = uint32(x)
		case num == fieldDataID && typ == protowire.VarintType:
			d.Id = x
		case num == fieldDataFork && typ == protowire.VarintType:
			d.Fork = x
		case num == fieldDataRange && typ == protowire.BytesType:
			d.Range = &pb.RangeProof{}
			return decodeRange(v, d.Range)
		case num == fieldDataUpgrade && typ == protowire.BytesType:
			d.Upgrade = &pb.UpgradeProof{}
			return decodeUpgrade(v, d.Upgrade)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil, false
	}
	return &pb.Message{Body: &pb.Message_Data{Data: d}}, true
}

func decodeRange(b []byte, r *pb.RangeProof) bool {
	return eachInOrder(b, fieldRangeValues, fieldRangeNodes, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
		switch {
		case num == fieldRangeStart && typ == protowire.VarintType:
			r.Start = x
		case num == fieldRangeValues && typ == protowire.BytesType:
			r.Values = append(r.Values, v[:len(v):len(v)])
		case num == fieldRangeNodes && typ == protowire.BytesType:
			return appendNode(&r.Nodes, v)
		default:
			return false
		}
		return true
	})
}

func decodeUpgrade(b []byte, u *pb.UpgradeProof) bool {
	return eachInOrder(b, fieldUpgradeRoots, fieldUpgradeNodes, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
		switch {
		case num == fieldUpStart && typ == protowire.VarintType:
			u.Start = x
		case num == fieldUpLength && typ == protowire.VarintType:
			u.Length = x
		case num == fieldUpgradeRoots && typ == protowire.BytesType:
			return appendNode(&u.Roots, v)
		case num == fieldUpgradeNodes && typ == protowire.BytesType:
			return appendNode(&u.Nodes, v)
		case num == fieldUpSignature && typ == protowire.BytesType:
			u.Signature = append([]byte(nil), v...)
		default:
			return false
		}
		return true
	})
}

// appendNode decodes a Node; its hash is copied (it is small, and kept).
func appendNode(ns *[]*pb.Node, b []byte) bool {
	n := &pb.Node{}
	ok := eachInOrder(b, 0, 0, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) bool {
		switch {
		case num == fieldNodeIndex && typ == protowire.VarintType:
			n.Index = x
		case num == fieldNodeSize && typ == protowire.VarintType:
			n.Size = x
		case num == fieldNodeHash && typ == protowire.BytesType:
			n.Hash = append([]byte(nil), v...)
		default:
			return false
		}
		return true
	})
	*ns = append(*ns, n)
	return ok
}

// eachInOrder calls f with each field of b: a varint field's value in x, a
// length-delimited one's contents in v. It stops with false at a field
// out of order — a lower number than the one before, or the same number
// again but for the repeated fields rep1 and rep2, whose entries come in
// one run — at a wire type other than varint or bytes, or when f returns
// false. Protobuf would take those too (the last of a scalar, two merged
// messages), but appendDataFrame never writes them.
func eachInOrder(b []byte, rep1, rep2 protowire.Number, f func(protowire.Number, protowire.Type, []byte, uint64) bool) bool {
	var last protowire.Number
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < last || (num == last && num != rep1 && num != rep2) {
			return false
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			return false
		}
		if n < 0 || !f(num, typ, v, x) {
			return false
		}
		last = num
		b = b[n:]
	}
	return true
}
