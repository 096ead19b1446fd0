package db

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Limits on a message's shape, checked on its bytes before it is parsed.
// Parsed, an empty repeated entry (2 bytes on the wire) takes some 100
// bytes of heap: unchecked, a frame within MaxMessageSize could cost 60
// times its size.
const (
	// maxControlSize bounds every message but Data; each needs a few
	// dozen bytes.
	maxControlSize = 16 << 10
	// maxProofNodes bounds each list of nodes in a proof: book's own
	// bounds are 64 roots and 128 range or link nodes.
	maxProofNodes = 128
)

// Field numbers of pb/replicate.proto that checkShape reads.
const (
	fieldData         = 5 // Message.data
	fieldDataRange    = 4 // Data.range
	fieldDataUpgrade  = 5 // Data.upgrade
	fieldRangeValues  = 2 // RangeProof.values
	fieldRangeNodes   = 3 // RangeProof.nodes
	fieldUpgradeRoots = 3 // UpgradeProof.roots
	fieldUpgradeNodes = 4 // UpgradeProof.nodes
)

// dataLimits bounds the repeated fields of a Data, counted over the whole
// message (repeated occurrences of a field merge when parsed).
var dataLimits = [...]struct {
	parent, field protowire.Number
	max           int
	what          string
}{
	{fieldDataRange, fieldRangeValues, maxRangePages, "pages"},
	{fieldDataRange, fieldRangeNodes, maxProofNodes, "range proof nodes"},
	{fieldDataUpgrade, fieldUpgradeRoots, maxProofNodes, "roots"},
	{fieldDataUpgrade, fieldUpgradeNodes, maxProofNodes, "upgrade link nodes"},
}

// checkShape bounds what parsing b can allocate: exactly one body, any
// body but Data within maxControlSize, and a Data's pages and nodes within
// what a request asks for and a proof may hold.
func checkShape(b []byte) error {
	var bodies int
	var counts [len(dataLimits)]int
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if bodies++; bodies > 1 {
			return fmt.Errorf("%w: more than one body in a message", ErrProtocol)
		}
		if num != fieldData || typ != protowire.BytesType {
			if len(v) > maxControlSize {
				return fmt.Errorf("%w: %w: message of %d bytes, limit %d but for data", ErrProtocol, ErrLimit, len(v), maxControlSize)
			}
			return nil
		}
		return eachField(v, func(parent protowire.Number, typ protowire.Type, v []byte) error {
			if (parent != fieldDataRange && parent != fieldDataUpgrade) || typ != protowire.BytesType {
				return nil
			}
			return eachField(v, func(field protowire.Number, _ protowire.Type, _ []byte) error {
				for i, l := range dataLimits {
					if l.parent == parent && l.field == field {
						if counts[i]++; counts[i] > l.max {
							return fmt.Errorf("%w: %w: data with over %d %s", ErrProtocol, ErrLimit, l.max, l.what)
						}
					}
				}
				return nil
			})
		})
	})
}

// eachField calls f with each field of the protobuf message b: its number,
// wire type and value (the contents, for a length-delimited field).
func eachField(b []byte, f func(protowire.Number, protowire.Type, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: undecodable message: %v", ErrProtocol, protowire.ParseError(n))
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return fmt.Errorf("%w: undecodable message: %v", ErrProtocol, protowire.ParseError(m))
		}
		v := b[:m]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(v)
		}
		if err := f(num, typ, v); err != nil {
			return err
		}
		b = b[m:]
	}
	return nil
}
