package io

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio/pbio"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/io/pb"
)

// Fuzzers of the handshake's decode path: proto.Unmarshal, checkHello,
// readHello, as the stream handler runs them on a remote's bytes.

// hsFuzzOffer is the local side of the fuzzers: peer 2, offering three
// books and two topics, hearing from peer 1.
func hsFuzzOffer(t testing.TB) (local, remote peer.ID, o offer) {
	return hsPeer(t, 2), hsPeer(t, 1), offer{
		books:  []ed25519.PublicKey{hsKey(1), hsKey(2), hsKey(3)},
		topics: [][32]byte{hsTopic(1), hsTopic(2)},
	}
}

// hsCheckResult checks what readHello may return for any Hello h: only
// books of the local offer, each with a right proof in h, sorted, once;
// only local topics whose proof is in h, once; only well-formed
// introductions, at most one per entry of h.
func hsCheckResult(t testing.TB, local, remote peer.ID, o offer, h *pb.Hello, r Handshake) {
	t.Helper()
	if r.Remote != remote || r.Initiator {
		t.Fatalf("remote %s, initiator %v", r.Remote, r.Initiator)
	}
	hsCheckShared(t, r, o)
	for _, s := range r.Shared {
		want := proof(&bookProofNS, s.Key, remote, local)
		if !slices.ContainsFunc(h.Books, func(b *pb.Book) bool {
			return bytes.Equal(b.DiscoveryKey, s.DiscoveryKey[:]) && bytes.Equal(b.Proof, want)
		}) {
			t.Fatalf("book %x shared without its proof in the Hello", s.Key)
		}
	}
	for i, tp := range r.Topics {
		if !slices.Contains(o.topics, tp) || slices.Contains(r.Topics[:i], tp) {
			t.Fatalf("topic %x not local, or twice", tp)
		}
		want := proof(&topicProofNS, tp[:], remote, local)
		if !slices.ContainsFunc(h.Topics, func(p []byte) bool { return bytes.Equal(p, want) }) {
			t.Fatalf("topic %x matched without its proof in the Hello", tp)
		}
	}
	if len(r.Introduced) > len(h.Introductions) {
		t.Fatalf("%d introductions from %d entries", len(r.Introduced), len(h.Introductions))
	}
	for _, in := range r.Introduced {
		if len(in.Key) != ed25519.PublicKeySize || len(in.Token) > MaxTokenSize || len(in.Meta) > MaxMetaSize {
			t.Fatalf("malformed introduction kept: key %d, token %d, meta %d bytes", len(in.Key), len(in.Token), len(in.Meta))
		}
	}
}

// hsDecode runs the decode path on one Hello's bytes; ok is false when
// the Hello is refused (malformed, or failing checkHello).
func hsDecode(t testing.TB, data []byte) (*pb.Hello, bool) {
	t.Helper()
	var h pb.Hello
	if proto.Unmarshal(data, &h) != nil {
		return nil, false
	}
	if err := checkHello(&h); err != nil {
		if !errors.Is(err, ErrHandshake) {
			t.Fatalf("checkHello: %v, want ErrHandshake", err)
		}
		return nil, false
	}
	return &h, true
}

func FuzzHello(f *testing.F) {
	local, remote, o := hsFuzzOffer(f)
	seeds := []offer{
		{},
		o,
		{books: []ed25519.PublicKey{hsKey(2), hsKey(9)}, topics: [][32]byte{hsTopic(2), hsTopic(9)}},
		{intros: []Introduction{{Key: hsKey(5), Token: []byte("token"), Meta: []byte("meta")}, {Key: hsKey(6)}}},
		{books: o.books, topics: o.topics, intros: []Introduction{{Key: hsKey(7), Token: make([]byte, MaxTokenSize)}}},
		// Refused (odd token) with the meta as the reason: not UTF-8, and
		// longer than maxReason in 3-byte runes.
		{intros: []Introduction{{Key: hsKey(8), Token: []byte("odd"), Meta: []byte("bad \xff reason")}}},
		{intros: []Introduction{{Key: hsKey(8), Token: []byte("odd"), Meta: []byte(strings.Repeat("€", 100))}}},
	}
	for _, s := range seeds {
		enc, err := proto.Marshal(buildHello(remote, local, s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
		// The same, for another receiver: nothing should match.
		enc, _ = proto.Marshal(buildHello(remote, hsPeer(f, 3), s))
		f.Add(enc)
	}
	enc, _ := proto.Marshal(&pb.Hello{Version: 2, Refused: "full"})
	f.Add(enc)
	f.Add([]byte{})
	// What this side introduced, as the initiator, for rejections to name.
	sent := []Introduction{{Key: hsKey(5)}, {Key: hsKey(6)}}
	f.Fuzz(func(t *testing.T, data []byte) {
		accept := func(p peer.ID, in Introduction) error {
			if p != remote {
				t.Fatalf("Accept asked about %s", p)
			}
			if len(in.Token)%2 != 0 {
				return errors.New(string(in.Meta)) // any length
			}
			return nil
		}
		check := func(h *pb.Hello) {
			r, rejected := readHello(local, remote, o, h, accept)
			hsCheckResult(t, local, remote, o, h, r)
			hsCheckRejections(t, h, r, rejected)
			for _, rj := range rejections(sent, h) {
				if !slices.ContainsFunc(sent, func(in Introduction) bool { return in.Key.Equal(rj.Key) }) || len(rj.Reason) > maxReason {
					t.Fatalf("rejection of %x (reason %d bytes) names nothing sent", rj.Key, len(rj.Reason))
				}
			}
		}
		if h, ok := hsDecode(t, data); ok {
			check(h)
		}
		// And as the stream handler reads it: a varint length first.
		var h pb.Hello
		err := pbio.NewDelimitedReader(bytes.NewReader(data), 4096).ReadMsg(&h)
		if err == nil && checkHello(&h) == nil {
			check(&h)
		}
	})
}

// hsCheckRejections checks the answer readHello prepares for the
// initiator: every introduction of h is kept or rejected, never both;
// rejections in order, once each, with a bounded reason.
func hsCheckRejections(t testing.TB, h *pb.Hello, r Handshake, rejected []*pb.Rejection) {
	t.Helper()
	if len(r.Introduced)+len(rejected) != len(h.Introductions) {
		t.Fatalf("%d kept + %d rejected of %d introductions", len(r.Introduced), len(rejected), len(h.Introductions))
	}
	for i, rj := range rejected {
		if int(rj.Index) >= len(h.Introductions) || i > 0 && rj.Index <= rejected[i-1].Index {
			t.Fatalf("rejection %d: index %d of %d, not after %v", i, rj.Index, len(h.Introductions), rejected[:i])
		}
		if len(rj.Reason) > maxReason {
			t.Fatalf("rejection %d: reason of %d bytes", i, len(rj.Reason))
		}
	}
	// The answer must go out: a proto3 string must be valid UTF-8.
	if _, err := proto.Marshal(&pb.Hello{Version: helloVersion, Rejections: rejected}); err != nil {
		t.Fatalf("the rejections cannot be sent: %v", err)
	}
}

// hsMutateBase is a Hello built by peer 1 for peer 2, sharing one book
// (of two offered) and one topic, with one introduction; with the byte
// ranges of its fields' values in the encoding.
type hsMutateBase struct {
	local, remote    peer.ID
	o                offer // the receiver's
	shared           ed25519.PublicKey
	enc              []byte
	dk, proof        [2]int // [start, end) of the shared book's values
	topic            [2]int
	introKey         [2]int
	token, meta      [2]int
	introKeyOriginal ed25519.PublicKey
}

func hsNewMutateBase(t testing.TB) *hsMutateBase {
	a, b := hsPeer(t, 1), hsPeer(t, 2)
	k, other, top := hsKey(1), hsKey(2), hsTopic(1)
	in := Introduction{Key: hsKey(3), Token: []byte("TOKEN-token-TOKEN"), Meta: []byte("META-meta-META-meta")}
	h := buildHello(a, b, offer{books: []ed25519.PublicKey{other, k}, topics: [][32]byte{top}, intros: []Introduction{in}})
	enc, err := proto.MarshalOptions{Deterministic: true}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	dk := book.DiscoveryKey(k)
	m := &hsMutateBase{
		local: b, remote: a, shared: k, enc: enc, introKeyOriginal: in.Key,
		o: offer{books: []ed25519.PublicKey{k}, topics: [][32]byte{top}},
	}
	for _, x := range []struct {
		r *[2]int
		v []byte
	}{
		{&m.dk, dk[:]}, {&m.proof, proof(&bookProofNS, k, a, b)}, {&m.topic, proof(&topicProofNS, top[:], a, b)},
		{&m.introKey, in.Key}, {&m.token, in.Token}, {&m.meta, in.Meta},
	} {
		if bytes.Count(enc, x.v) != 1 {
			t.Fatalf("value %x found %d times in the encoding", x.v, bytes.Count(enc, x.v))
		}
		i := bytes.Index(enc, x.v)
		*x.r = [2]int{i, i + len(x.v)}
	}
	r := readHelloB(b, a, m.o, h, hsAcceptAll)
	if len(r.Shared) != 1 || len(r.Topics) != 1 || len(r.Introduced) != 1 {
		t.Fatalf("base Hello: %+v", r)
	}
	return m
}

func hsIn(i int, r [2]int) bool { return r[0] <= i && i < r[1] }

// check flips enc[i] by xor and checks the outcome: a mutated discovery
// key or proof never shares the book; a mutated value of another field
// still decodes and still shares it, and changes only its own field.
func (m *hsMutateBase) check(t testing.TB, i int, xor byte) {
	t.Helper()
	mut := slices.Clone(m.enc)
	mut[i] ^= xor
	h, ok := hsDecode(t, mut)
	neutral := hsIn(i, m.topic) || hsIn(i, m.introKey) || hsIn(i, m.token) || hsIn(i, m.meta)
	if !ok {
		if neutral {
			t.Fatalf("byte %d ^ %#x, in a neutral value, broke the Hello", i, xor)
		}
		return
	}
	r := readHelloB(m.local, m.remote, m.o, h, hsAcceptAll)
	hsCheckResult(t, m.local, m.remote, m.o, h, r)
	shared := len(r.Shared) == 1 && r.Shared[0].Key.Equal(m.shared)
	switch {
	case hsIn(i, m.dk) || hsIn(i, m.proof):
		if len(r.Shared) != 0 {
			t.Fatalf("byte %d ^ %#x, in the discovery key or proof, still shared %x", i, xor, hsSharedKeys(r))
		}
	case neutral:
		if !shared {
			t.Fatalf("byte %d ^ %#x, in a neutral value, unshared the book", i, xor)
		}
		if got := len(r.Topics) == 1; got == hsIn(i, m.topic) {
			t.Fatalf("byte %d ^ %#x: topic matched %v", i, xor, got)
		}
		if len(r.Introduced) != 1 || r.Introduced[0].Key.Equal(m.introKeyOriginal) == hsIn(i, m.introKey) {
			t.Fatalf("byte %d ^ %#x: introductions %+v", i, xor, r.Introduced)
		}
	default:
		if len(r.Shared) > 1 || len(r.Shared) == 1 && !shared {
			t.Fatalf("byte %d ^ %#x: shared %x", i, xor, hsSharedKeys(r))
		}
	}
}

func FuzzHelloMutate(f *testing.F) {
	m := hsNewMutateBase(f)
	for _, i := range []int{0, 1, m.dk[0], m.dk[1] - 1, m.proof[0], m.proof[1] - 1, m.topic[0], m.introKey[0], m.token[0], m.meta[1] - 1, len(m.enc) - 1} {
		f.Add(uint16(i), byte(1))
		f.Add(uint16(i), byte(0x80))
	}
	f.Fuzz(func(t *testing.T, pos uint16, xor byte) {
		if xor == 0 {
			xor = 1
		}
		m.check(t, int(pos)%len(m.enc), xor)
	})
}

// TestHelloOneByteFlips runs FuzzHelloMutate's check on every byte of the
// encoding, with a few flips each.
func TestHelloOneByteFlips(t *testing.T) {
	m := hsNewMutateBase(t)
	for i := range m.enc {
		for _, xor := range []byte{0x01, 0x02, 0x40, 0x80, 0xff} {
			m.check(t, i, xor)
		}
	}
}
