package hypercore

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/hypercore/noise"
	"github.com/folio-p2p/folio/hypercore/protomux"
	"github.com/folio-p2p/folio/hypercore/secretstream"
	"github.com/folio-p2p/folio/hypercore/wire"
)

// nothingStored checks that a reader book is as it was created.
func nothingStored(t *testing.T, r *book.Book) {
	t.Helper()
	if h, signed := r.Head(); signed || h.Length != 0 {
		t.Fatalf("reader stored a head of length %d", h.Length)
	}
}

// fetchAgainst runs Fetch as the dialler against a fake peer and returns
// its error, failing if it takes more than 20 s.
func fetchAgainst(t *testing.T, r *book.Book, fake func(conn net.Conn)) error {
	t.Helper()
	a, b := connPair(t)
	go func() {
		defer b.Close()
		fake(b)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := Fetch(ctx, a, true, r, &Options{Stream: secretstream.Options{Noise: noise.Config{Timeout: 2 * time.Second}}})
	if ctx.Err() != nil {
		t.Fatal("fetch did not end on its own")
	}
	return err
}

// fakeOpen is a peer that opens the core's channel with the given
// capability and then sends sync claiming length 5.
func fakeOpen(key ed25519.PublicKey, capability func(*secretstream.Stream) [32]byte) func(net.Conn) {
	return func(conn net.Conn) {
		st, err := secretstream.New(context.Background(), conn, false, nil)
		if err != nil {
			return
		}
		defer st.Close()
		m := protomux.New(st, nil)
		dk := book.DiscoveryKey(key)
		hs := wire.Handshake{Capability: capability(st)}
		ch, err := m.Open(Protocol, dk[:], hs.Append(nil), nopHandler{})
		if err != nil {
			return
		}
		sync := &wire.Sync{Length: 5, CanUpgrade: true, Uploading: true}
		_ = ch.Send(wire.TypeSync, sync.Append(nil))
		_ = m.Run(context.Background())
	}
}

type nopHandler struct{}

func (nopHandler) Opened(*protomux.Channel, []byte) error          { return nil }
func (nopHandler) Message(*protomux.Channel, uint64, []byte) error { return nil }
func (nopHandler) Closed(*protomux.Channel)                        {}

func TestBadCapability(t *testing.T) {
	_, sk, _ := ed25519.GenerateKey(nil)
	key := sk.Public().(ed25519.PublicKey)
	r := openBook(t, key, nil)
	// A peer that does not know the key, and one replaying the capability
	// of the wrong role: both are refused.
	for name, capf := range map[string]func(*secretstream.Stream) [32]byte{
		"random":     func(*secretstream.Stream) (c [32]byte) { _, _ = rand.Read(c[:]); return c },
		"wrong role": func(st *secretstream.Stream) [32]byte { return Capability(st.HandshakeHash(), true, key) },
	} {
		if err := fetchAgainst(t, r, fakeOpen(key, capf)); !errors.Is(err, ErrCapability) {
			t.Fatalf("%s: %v", name, err)
		}
		nothingStored(t, r)
	}
}

func TestCorruptedFrame(t *testing.T) {
	_, sk, _ := ed25519.GenerateKey(nil)
	r := openBook(t, sk.Public().(ed25519.PublicKey), nil)
	err := fetchAgainst(t, r, func(conn net.Conn) {
		if _, err := secretstream.New(context.Background(), conn, false, nil); err != nil {
			return
		}
		junk := make([]byte, 200)
		_, _ = rand.Read(junk)
		_ = noise.WriteFrame(conn, junk)
		time.Sleep(time.Second)
	})
	if !errors.Is(err, secretstream.ErrAuth) {
		t.Fatalf("corrupted frame: %v", err)
	}
	nothingStored(t, r)
}

func TestTruncatedHandshake(t *testing.T) {
	_, sk, _ := ed25519.GenerateKey(nil)
	r := openBook(t, sk.Public().(ed25519.PublicKey), nil)
	for name, fake := range map[string]func(net.Conn){
		"closed mid-message": func(conn net.Conn) {
			buf := make([]byte, 35)
			_, _ = conn.Read(buf)
			_, _ = conn.Write([]byte{0x60, 0, 0, 1, 2, 3})
		},
		"silent": func(conn net.Conn) { time.Sleep(5 * time.Second) },
		"huge frame header": func(conn net.Conn) {
			_, _ = conn.Write([]byte{0xff, 0xff, 0xff})
			time.Sleep(time.Second)
		},
	} {
		if err := fetchAgainst(t, r, fake); err == nil {
			t.Fatalf("%s: fetch succeeded", name)
		}
		nothingStored(t, r)
	}
}

// TestFrameNear16MiB: a page of almost 16 MiB travels in one frame near
// the u24 limit to a reader that allows such pages, and is refused, with
// the stream closed and the page not stored, by one that does not.
func TestFrameNear16MiB(t *testing.T) {
	_, sk, _ := ed25519.GenerateKey(nil)
	key := sk.Public().(ed25519.PublicKey)
	big := make([]byte, 16<<20-300)
	_, _ = rand.Read(big)
	w := openBookOpts(t, key, sk, &book.Options{NoSync: true, MaxPageSize: 16 << 20})
	if _, err := w.Append(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		maxPage int
		ok      bool
	}{{16 << 20, true}, {0, false}} {
		r := openBookOpts(t, key, nil, &book.Options{NoSync: true, MaxPageSize: tc.maxPage})
		a, b := connPair(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		go func() { _ = Serve(ctx, b, false, w, nil) }()
		err := Fetch(ctx, a, true, r, nil)
		cancel()
		if tc.ok {
			if err != nil {
				t.Fatalf("16 MiB page: %v", err)
			}
			sameBooks(t, w, r)
			continue
		}
		if !errors.Is(err, book.ErrTooLarge) {
			t.Fatalf("page over the reader's limit: %v", err)
		}
		if has, _ := r.Has(0); has {
			t.Fatal("the refused page was stored")
		}
	}
}

func openBookOpts(t testing.TB, key ed25519.PublicKey, secret ed25519.PrivateKey, o *book.Options) *book.Book {
	t.Helper()
	pdb, err := pebble.Open(t.TempDir(), &pebble.Options{Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := book.Open(pdb, []byte("b"), key, secret, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); pdb.Close() })
	return b
}
