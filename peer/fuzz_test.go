package peer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// FuzzDecodeInvite: any string either fails with ErrBadCode or decodes to
// an invite that encodes back to a code decoding to the same invite.
func FuzzDecodeInvite(f *testing.F) {
	good, _ := EncodeInvite(&pb.Invite{Inviter: []byte(fuzzPeer(f)), Task: make([]byte, 16), Secret: bytes.Repeat([]byte{7}, 16), Addrs: [][]byte{{4, 127, 0, 0, 1, 6, 0x1f, 0x90}}})
	f.Add(good)
	f.Add(strings.ToUpper(good))
	f.Add(good[:len(good)-3])
	f.Add("folio1-")
	f.Add("")
	f.Fuzz(func(t *testing.T, code string) {
		in, err := DecodeInvite(code)
		if err != nil {
			if in != nil {
				t.Fatal("an error and an invite")
			}
			return
		}
		again, err := EncodeInvite(in)
		if err != nil {
			t.Fatal(err)
		}
		in2, err := DecodeInvite(again)
		if err != nil || !proto.Equal(in, in2) {
			t.Fatalf("round trip: %v", err)
		}
		if _, ok := taskOf(in.Task); !ok || len(in.Secret) != 16 {
			t.Fatal("a malformed invite decoded")
		}
	})
}

// FuzzEnvelope: any page either fails to decode as author's envelope at
// index 3 or names exactly that author and index, and turning it into a
// timeline entry never panics.
func FuzzEnvelope(f *testing.F) {
	author := fuzzPeer(f)
	env := &pb.Envelope{
		Head: &pb.Head{Author: []byte(author), Index: 3},
		Refs: []*pb.Ref{{Kind: pb.RefKind_REF_REPLY_TO, Head: &pb.Head{Author: []byte(author), Index: 1}}},
		Type: pb.Type_TYPE_REPLY, Data: []byte("hi"),
		Meta: &pb.Meta{Time: 1, Clock: 9, Task: make([]byte, 16)},
	}
	page, _ := proto.Marshal(env)
	f.Add(page)
	for _, typ := range []pb.Type{pb.Type_TYPE_JOIN, pb.Type_TYPE_TASK_UPDATE, pb.Type_TYPE_EDIT} {
		env.Type = typ
		env.Data = []byte{10, 2, 1, 2}
		p, _ := proto.Marshal(env)
		f.Add(p)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, page []byte) {
		env, err := decode(author, 3, page)
		if err != nil {
			return
		}
		if peer.ID(env.Head.Author) != author || env.Head.Index != 3 || env.Meta == nil {
			t.Fatal("decode accepted another author, index or no meta")
		}
		m := toMessage(author, nil, 3, env)
		var a applied
		a.add(author, m.Key(), env)
		a.decorate(m)
		if m.Head.Author != author || m.Head.Index != 3 {
			t.Fatal("entry names another head")
		}
	})
}

func fuzzPeer(f *testing.F) peer.ID {
	id, err := peer.Decode("12D3KooWLi14PkN6cUsnxWcR32UjSGaYpc1QUTbhWBc5xE6QhnZU")
	if err != nil {
		f.Fatal(err)
	}
	return id
}
