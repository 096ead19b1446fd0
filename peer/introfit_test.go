package peer

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// TestFitMeta: an introduction's view of a large group is trimmed to io's
// bound — other members' addresses first (last listed first), then
// members from the end — keeping the introducer's own entry and the
// tasks; a small one is sent as it is.
func TestFitMeta(t *testing.T) {
	mk := func(n int) *pb.IntroMeta {
		m := &pb.IntroMeta{Task: bytes.Repeat([]byte{7}, 16), Tasks: []*pb.TaskUpdate{{Task: bytes.Repeat([]byte{7}, 16), Title: "big"}}}
		for i := range n {
			m.Members = append(m.Members, &pb.Join{PeerId: fmt.Appendf(nil, "peer-%036d", i), Addrs: [][]byte{bytes.Repeat([]byte{byte(i)}, 40)}})
		}
		return m
	}
	small := mk(3)
	if got := fitMeta(small, maxMeta); !proto.Equal(got, small) {
		t.Fatalf("a small meta changed: %v", got)
	}
	for _, n := range []int{60, 80, 100, 300} {
		full := mk(n)
		got := fitMeta(full, maxMeta)
		if size := proto.Size(got); size > maxMeta {
			t.Fatalf("%d members: %d bytes, over %d", n, size, maxMeta)
		}
		if !proto.Equal(full, mk(n)) {
			t.Fatalf("%d members: the caller's meta changed", n)
		}
		if !proto.Equal(got.Members[0], full.Members[0]) || !proto.Equal(got.Tasks[0], full.Tasks[0]) {
			t.Fatalf("%d members: the introducer's entry or the tasks changed", n)
		}
		stripped := false
		for i, m := range got.Members {
			if !bytes.Equal(m.PeerId, full.Members[i].PeerId) {
				t.Fatalf("%d members: entry %d is %q, want %q", n, i, m.PeerId, full.Members[i].PeerId)
			}
			if len(m.Addrs) == 0 {
				stripped = true
			} else if stripped {
				t.Fatalf("%d members: entry %d keeps its addresses after an earlier one lost them", n, i)
			}
		}
		if proto.Size(full) > maxMeta && len(got.Members) < n && len(got.Members[len(got.Members)-1].Addrs) > 0 {
			t.Fatalf("%d members: members dropped while some kept addresses", n)
		}
	}
}
