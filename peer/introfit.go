package peer

import (
	"google.golang.org/protobuf/proto"

	folioio "github.com/folio-p2p/folio/io"
	"github.com/folio-p2p/folio/peer/pb"
)

// fitMeta trims an introduction's view of the task until it fits io's
// bound on an introduction's metadata (max bytes): first the other
// members' addresses, last listed first, then those members themselves.
// The introducer's own entry (first) and the tasks stay. Without it a
// group of about 70 members on loopback (fewer with real addresses)
// could introduce no book at all: io refused every introduction as
// malformed, and joins waited forever. What is left out is learnt from
// the join messages in the introducer's book, and members that
// introduce themselves name their own addresses.
func fitMeta(meta *pb.IntroMeta, max int) *pb.IntroMeta {
	if proto.Size(meta) <= max {
		return meta
	}
	meta = proto.CloneOf(meta)
	for i := len(meta.Members) - 1; i > 0 && proto.Size(meta) > max; i-- {
		meta.Members[i].Addrs = nil
	}
	for len(meta.Members) > 1 && proto.Size(meta) > max {
		meta.Members = meta.Members[:len(meta.Members)-1]
	}
	return meta
}

// maxMeta is io's bound on an introduction's metadata.
const maxMeta = folioio.MaxMetaSize
