package io

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/blake2b"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/io/pb"
)

// The deterministic core of the handshake (buildHello, checkHello,
// readHello), tested without a network, a clock or a goroutine.

// hsPeer returns the peer ID of the Ed25519 identity seeded with seed.
func hsPeer(t testing.TB, seed byte) peer.ID {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	k, err := crypto.UnmarshalEd25519PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// hsKey returns the book key seeded with seed.
func hsKey(seed byte) ed25519.PublicKey {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x80 | seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey)
}

// hsTopic returns the topic seeded with seed.
func hsTopic(seed byte) [32]byte { return blake2b.Sum256([]byte{'t', seed}) }

func hsAcceptAll(peer.ID, Introduction) bool { return true }

// hsSharedKeys returns the keys of h's shared books, in order.
func hsSharedKeys(h Handshake) []ed25519.PublicKey {
	var out []ed25519.PublicKey
	for _, b := range h.Shared {
		out = append(out, b.Key)
	}
	return out
}

// hsSortedByDK returns keys sorted by discovery key, as Shared is.
func hsSortedByDK(keys ...ed25519.PublicKey) []ed25519.PublicKey {
	out := slices.Clone(keys)
	slices.SortFunc(out, func(a, b ed25519.PublicKey) int {
		da, db := book.DiscoveryKey(a), book.DiscoveryKey(b)
		return bytes.Compare(da[:], db[:])
	})
	return out
}

func hsSameKeys(t testing.TB, what string, got, want []ed25519.PublicKey) {
	t.Helper()
	if !slices.EqualFunc(got, want, func(a, b ed25519.PublicKey) bool { return a.Equal(b) }) {
		t.Fatalf("%s: got %d keys %x, want %d keys %x", what, len(got), got, len(want), want)
	}
}

// hsCheckShared checks what every result of readHello must satisfy: each
// shared book is one that local offered, with its own discovery key,
// sorted by discovery key, once.
func hsCheckShared(t testing.TB, h Handshake, o offer) {
	t.Helper()
	for i, b := range h.Shared {
		if b.DiscoveryKey != book.DiscoveryKey(b.Key) {
			t.Fatalf("shared book %x with discovery key %x", b.Key, b.DiscoveryKey)
		}
		if !slices.ContainsFunc(o.books, func(k ed25519.PublicKey) bool { return k.Equal(b.Key) }) {
			t.Fatalf("shared book %x not in the local offer", b.Key)
		}
		if i > 0 && bytes.Compare(h.Shared[i-1].DiscoveryKey[:], b.DiscoveryKey[:]) >= 0 {
			t.Fatalf("shared books not sorted and unique at %d", i)
		}
	}
}

func TestReadHelloSharedIsIntersection(t *testing.T) {
	a, b := hsPeer(t, 1), hsPeer(t, 2)
	k1, k2, k3, k4 := hsKey(1), hsKey(2), hsKey(3), hsKey(4)
	oa := offer{books: []ed25519.PublicKey{k1, k2, k3}}
	ob := offer{books: []ed25519.PublicKey{k4, k3, k2}}
	atB := readHelloB(b, a, ob, buildHello(a, b, oa), hsAcceptAll)
	atA := readHelloB(a, b, oa, buildHello(b, a, ob), hsAcceptAll)
	want := hsSortedByDK(k2, k3)
	hsSameKeys(t, "at B", hsSharedKeys(atB), want)
	hsSameKeys(t, "at A", hsSharedKeys(atA), want)
	hsCheckShared(t, atB, ob)
	hsCheckShared(t, atA, oa)
	if atB.Remote != a || atA.Remote != b {
		t.Fatalf("remotes %s, %s", atB.Remote, atA.Remote)
	}
	if len(atB.Topics) != 0 || len(atB.Introduced) != 0 {
		t.Fatalf("topics or introductions from nothing: %+v", atB)
	}
	// Nothing offered on one side: nothing shared.
	if r := readHelloB(b, a, offer{}, buildHello(a, b, oa), hsAcceptAll); len(r.Shared) != 0 {
		t.Fatalf("shared %d books with an empty offer", len(r.Shared))
	}
	if r := readHelloB(b, a, ob, buildHello(a, b, offer{}), hsAcceptAll); len(r.Shared) != 0 {
		t.Fatalf("shared %d books from an empty Hello", len(r.Shared))
	}
}

func TestReadHelloSortedAndDeduplicated(t *testing.T) {
	a, b := hsPeer(t, 1), hsPeer(t, 2)
	var keys []ed25519.PublicKey
	for i := range byte(20) {
		keys = append(keys, hsKey(i))
	}
	// A offers every key twice, in reverse; B offers them once, and some
	// twice too.
	oa := offer{books: append(slices.Clone(keys), keys...)}
	slices.Reverse(oa.books)
	ob := offer{books: append(slices.Clone(keys), keys[3], keys[7])}
	h := buildHello(a, b, oa)
	if len(h.Books) != 40 {
		t.Fatalf("Hello has %d books, want 40 (duplicates are the caller's)", len(h.Books))
	}
	r := readHelloB(b, a, ob, h, hsAcceptAll)
	hsSameKeys(t, "shared", hsSharedKeys(r), hsSortedByDK(keys...))
	hsCheckShared(t, r, ob)
}

func TestReadHelloWrongProofIgnored(t *testing.T) {
	a, b, c := hsPeer(t, 1), hsPeer(t, 2), hsPeer(t, 3)
	k, other := hsKey(1), hsKey(2)
	dk := book.DiscoveryKey(k)
	ob := offer{books: []ed25519.PublicKey{k, other}}
	good := proof(&bookProofNS, k, a, b)
	for _, tc := range []struct {
		name string
		dk   []byte
		pf   []byte
	}{
		{"for another receiver", dk[:], proof(&bookProofNS, k, a, c)},
		{"by another sender", dk[:], proof(&bookProofNS, k, c, b)},
		{"sender and receiver swapped", dk[:], proof(&bookProofNS, k, b, a)},
		{"with another key", dk[:], proof(&bookProofNS, other, a, b)},
		{"in the topic namespace", dk[:], proof(&topicProofNS, k, a, b)},
		{"truncated", dk[:], good[:31]},
		{"extended", dk[:], append(slices.Clone(good), 0)},
		{"empty", dk[:], nil},
		{"one bit off", dk[:], append([]byte{good[0] ^ 1}, good[1:]...)},
		{"discovery key truncated", dk[:31], good},
		{"discovery key of the key itself", k, good},
		{"no discovery key", nil, good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &pb.Hello{Version: helloVersion, Books: []*pb.Book{{DiscoveryKey: tc.dk, Proof: tc.pf}}}
			if r := readHelloB(b, a, ob, h, hsAcceptAll); len(r.Shared) != 0 {
				t.Fatalf("shared %x", hsSharedKeys(r))
			}
			// A bad entry does not hide a good one for the same book.
			h.Books = append(h.Books, &pb.Book{DiscoveryKey: dk[:], Proof: good}, &pb.Book{DiscoveryKey: tc.dk, Proof: tc.pf})
			r := readHelloB(b, a, ob, h, hsAcceptAll)
			hsSameKeys(t, "with the good entry", hsSharedKeys(r), []ed25519.PublicKey{k})
		})
	}
}

func TestHelloBoundToSenderAndReceiver(t *testing.T) {
	a, b, c := hsPeer(t, 1), hsPeer(t, 2), hsPeer(t, 3)
	k, top := hsKey(1), hsTopic(1)
	o := offer{books: []ed25519.PublicKey{k}, topics: [][32]byte{top}}
	forC := buildHello(a, c, o)
	if r := readHelloB(c, a, o, forC, hsAcceptAll); len(r.Shared) != 1 || len(r.Topics) != 1 {
		t.Fatalf("at C, its own Hello: %+v", r)
	}
	// Relayed to B, or replayed by C to B as its own, it proves nothing.
	if r := readHelloB(b, a, o, forC, hsAcceptAll); len(r.Shared) != 0 || len(r.Topics) != 0 {
		t.Fatalf("at B, C's Hello from A: %+v", r)
	}
	if r := readHelloB(b, c, o, forC, hsAcceptAll); len(r.Shared) != 0 || len(r.Topics) != 0 {
		t.Fatalf("at B, C's Hello replayed by C: %+v", r)
	}
	// Reflected back to its sender, it proves nothing either.
	if r := readHelloB(a, c, o, forC, hsAcceptAll); len(r.Shared) != 0 || len(r.Topics) != 0 {
		t.Fatalf("at A, its own Hello reflected by C: %+v", r)
	}
}

func TestReadHelloUnknownBookIgnored(t *testing.T) {
	a, b := hsPeer(t, 1), hsPeer(t, 2)
	known, unknown := hsKey(1), hsKey(2)
	dkUnknown := book.DiscoveryKey(unknown)
	oa := offer{books: []ed25519.PublicKey{unknown, known}}
	ob := offer{books: []ed25519.PublicKey{known}}
	r := readHelloB(b, a, ob, buildHello(a, b, oa), hsAcceptAll)
	hsSameKeys(t, "shared", hsSharedKeys(r), []ed25519.PublicKey{known})
	for _, s := range r.Shared {
		if s.DiscoveryKey == dkUnknown {
			t.Fatal("a book unknown locally is in the result")
		}
	}
	// Random discovery keys with random proofs: nothing.
	h := &pb.Hello{Version: helloVersion}
	for i := range byte(50) {
		dk, pf := blake2b.Sum256([]byte{'d', i}), blake2b.Sum256([]byte{'p', i})
		h.Books = append(h.Books, &pb.Book{DiscoveryKey: dk[:], Proof: pf[:]})
	}
	if r := readHelloB(b, a, ob, h, hsAcceptAll); len(r.Shared) != 0 {
		t.Fatalf("shared %x", hsSharedKeys(r))
	}
}

func TestReadHelloMalformedLocalKeys(t *testing.T) {
	a, b := hsPeer(t, 1), hsPeer(t, 2)
	k := hsKey(1)
	bad := []ed25519.PublicKey{nil, k[:31], append(slices.Clone(k), 0)}
	h := buildHello(a, b, offer{books: append(slices.Clone(bad), k)})
	if len(h.Books) != 1 {
		t.Fatalf("buildHello kept %d books, want the 1 well-formed", len(h.Books))
	}
	r := readHelloB(b, a, offer{books: append(slices.Clone(bad), k)}, h, hsAcceptAll)
	hsSameKeys(t, "shared", hsSharedKeys(r), []ed25519.PublicKey{k})
}

func TestReadHelloTopics(t *testing.T) {
	a, b, c := hsPeer(t, 1), hsPeer(t, 2), hsPeer(t, 3)
	t1, t2, t3, t4 := hsTopic(1), hsTopic(2), hsTopic(3), hsTopic(4)
	oa := offer{topics: [][32]byte{t1, t2, t4}}
	ob := offer{topics: [][32]byte{t4, t3, t2}}
	atB := readHelloB(b, a, ob, buildHello(a, b, oa), hsAcceptAll)
	atA := readHelloB(a, b, oa, buildHello(b, a, ob), hsAcceptAll)
	// In the order of the local offer.
	if want := [][32]byte{t4, t2}; !slices.Equal(atB.Topics, want) {
		t.Fatalf("at B: topics %x, want %x", atB.Topics, want)
	}
	if want := [][32]byte{t2, t4}; !slices.Equal(atA.Topics, want) {
		t.Fatalf("at A: topics %x, want %x", atA.Topics, want)
	}
	// A proof repeated counts once.
	h := buildHello(a, b, oa)
	h.Topics = append(h.Topics, h.Topics...)
	if r := readHelloB(b, a, ob, h, hsAcceptAll); len(r.Topics) != 2 {
		t.Fatalf("duplicated proofs: %d topics", len(r.Topics))
	}
	// Proofs for another receiver, in the book namespace, or the topic
	// itself in clear: nothing.
	h = &pb.Hello{Version: helloVersion, Topics: [][]byte{
		proof(&topicProofNS, t2[:], a, c),
		proof(&topicProofNS, t2[:], b, a),
		proof(&bookProofNS, t2[:], a, b),
		t2[:],
		nil,
	}}
	if r := readHelloB(b, a, ob, h, hsAcceptAll); len(r.Topics) != 0 {
		t.Fatalf("bad topic proofs matched %x", r.Topics)
	}
}

func TestReadHelloIntroductions(t *testing.T) {
	a, b := hsPeer(t, 1), hsPeer(t, 2)
	k := hsKey(1)
	good := Introduction{Key: hsKey(2), Token: []byte("ok"), Meta: []byte("title")}
	maxed := Introduction{Key: hsKey(3), Token: bytes.Repeat([]byte("t"), MaxTokenSize), Meta: bytes.Repeat([]byte("m"), MaxMetaSize)}
	bare := Introduction{Key: hsKey(4)}
	badToken := Introduction{Key: hsKey(5), Token: []byte("wrong")}
	malformed := []Introduction{
		{Key: nil, Token: []byte("ok")},
		{Key: k[:31], Token: []byte("ok")},
		{Key: append(slices.Clone(k), 0), Token: []byte("ok")},
		{Key: hsKey(6), Token: bytes.Repeat([]byte("t"), MaxTokenSize+1)},
		{Key: hsKey(7), Token: []byte("ok"), Meta: bytes.Repeat([]byte("m"), MaxMetaSize+1)},
	}
	intros := append([]Introduction{good, malformed[0], maxed, malformed[1], bare, malformed[2], badToken}, malformed[3:]...)
	h := buildHello(a, b, offer{intros: intros})

	var asked []Introduction
	accept := func(remote peer.ID, in Introduction) bool {
		if remote != a {
			t.Errorf("Accept asked about %s, want %s", remote, a)
		}
		asked = append(asked, in)
		return !bytes.Equal(in.Token, []byte("wrong"))
	}
	r := readHelloB(b, a, offer{}, h, accept)
	hsSameIntros(t, "asked", asked, []Introduction{good, maxed, bare, badToken})
	hsSameIntros(t, "kept", r.Introduced, []Introduction{good, maxed, bare})

	// The default Accept keeps every well-formed one.
	r = readHelloB(b, a, offer{}, h, (&Options{}).withDefaults().Accept)
	hsSameIntros(t, "default", r.Introduced, []Introduction{good, maxed, bare, badToken})
	// Introductions share nothing by themselves.
	if r := readHelloB(b, a, offer{books: []ed25519.PublicKey{good.Key}}, h, hsAcceptAll); len(r.Shared) != 0 {
		t.Fatalf("an introduction made a shared book")
	}
}

func hsSameIntros(t testing.TB, what string, got, want []Introduction) {
	t.Helper()
	eq := func(x, y Introduction) bool {
		return x.Key.Equal(y.Key) && bytes.Equal(x.Token, y.Token) && bytes.Equal(x.Meta, y.Meta)
	}
	if !slices.EqualFunc(got, want, eq) {
		t.Fatalf("%s: got %d introductions, want %d", what, len(got), len(want))
	}
}

func TestCheckHello(t *testing.T) {
	ok := func(h *pb.Hello) *pb.Hello { h.Version = helloVersion; return h }
	for _, tc := range []struct {
		name string
		h    *pb.Hello
		err  bool
	}{
		{"empty v1", ok(&pb.Hello{}), false},
		{"version 0", &pb.Hello{}, true},
		{"version 2", &pb.Hello{Version: 2}, true},
		{"version max", &pb.Hello{Version: ^uint32(0)}, true},
		{"books at the limit", ok(&pb.Hello{Books: make([]*pb.Book, maxBooks)}), false},
		{"too many books", ok(&pb.Hello{Books: make([]*pb.Book, maxBooks+1)}), true},
		{"topics at the limit", ok(&pb.Hello{Topics: make([][]byte, maxTopics)}), false},
		{"too many topics", ok(&pb.Hello{Topics: make([][]byte, maxTopics+1)}), true},
		{"introductions at the limit", ok(&pb.Hello{Introductions: make([]*pb.Introduction, maxIntros)}), false},
		{"too many introductions", ok(&pb.Hello{Introductions: make([]*pb.Introduction, maxIntros+1)}), true},
	} {
		err := checkHello(tc.h)
		switch {
		case tc.err && !errors.Is(err, ErrHandshake):
			t.Errorf("%s: %v, want ErrHandshake", tc.name, err)
		case !tc.err && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestProofMatchesDoc recomputes a proof from the formula in doc.go.
func TestProofMatchesDoc(t *testing.T) {
	a, b := hsPeer(t, 1), hsPeer(t, 2)
	k := hsKey(1)
	for _, ns := range []string{"folio/handshake/book/v1", "folio/handshake/topic/v1"} {
		nsHash := blake2b.Sum256([]byte(ns))
		m, _ := blake2b.New256(k)
		m.Write(nsHash[:])
		m.Write(binary.BigEndian.AppendUint16(nil, uint16(len(a))))
		m.Write([]byte(a))
		m.Write(binary.BigEndian.AppendUint16(nil, uint16(len(b))))
		m.Write([]byte(b))
		got := proof(&nsHash, k, a, b)
		if !bytes.Equal(got, m.Sum(nil)) {
			t.Fatalf("%s: proof %x differs from the formula", ns, got)
		}
	}
	if bookProofNS != blake2b.Sum256([]byte("folio/handshake/book/v1")) || topicProofNS != blake2b.Sum256([]byte("folio/handshake/topic/v1")) {
		t.Fatal("namespaces changed")
	}
}

// TestHelloRoundTrip: a Hello survives its encoding, and the decoded one
// gives the same result.
func TestHelloRoundTrip(t *testing.T) {
	a, b := hsPeer(t, 1), hsPeer(t, 2)
	o := offer{
		books:  []ed25519.PublicKey{hsKey(1), hsKey(2)},
		topics: [][32]byte{hsTopic(1)},
		intros: []Introduction{{Key: hsKey(3), Token: []byte("tok"), Meta: []byte("meta")}},
	}
	enc, err := proto.Marshal(buildHello(a, b, o))
	if err != nil {
		t.Fatal(err)
	}
	var h pb.Hello
	if err := proto.Unmarshal(enc, &h); err != nil {
		t.Fatal(err)
	}
	if err := checkHello(&h); err != nil {
		t.Fatal(err)
	}
	r := readHelloB(b, a, o, &h, hsAcceptAll)
	hsSameKeys(t, "shared", hsSharedKeys(r), hsSortedByDK(o.books...))
	if len(r.Topics) != 1 || r.Topics[0] != o.topics[0] {
		t.Fatalf("topics %x", r.Topics)
	}
	hsSameIntros(t, "introduced", r.Introduced, o.intros)
}

// readHelloB runs readHello with a yes/no accept (or the real error
// form) and drops the rejections.
func readHelloB(local, remote peer.ID, o offer, h *pb.Hello, accept any) Handshake {
	var f func(peer.ID, Introduction) error
	switch a := accept.(type) {
	case func(peer.ID, Introduction) bool:
		f = func(p peer.ID, in Introduction) error {
			if a(p, in) {
				return nil
			}
			return errors.New("refused")
		}
	case func(peer.ID, Introduction) error:
		f = a
	}
	r, _ := readHello(local, remote, o, h, f)
	return r
}
