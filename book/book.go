package book

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Book is one signed, single-author, append-only book. It is safe for
// concurrent use: reads never block, writes are serialised.
type Book struct {
	pdb    *pebble.DB
	keys   keys
	key    ed25519.PublicKey
	secret ed25519.PrivateKey // nil for a read-only book
	dkey   [32]byte
	opts   Options
	name   string

	mu sync.Mutex // serialises every write
	// vkey is key decoded for verifying proofs, made by the first
	// ApplyProof; guarded by mu.
	vkey *verifyKey

	asyncMu     sync.Mutex     // guards asyncTail and asyncFailed
	asyncTail   *PendingAppend // the latest AppendAsync not yet finished
	asyncFailed *PendingAppend // a failed one whose Wait has not returned yet
	state       atomic.Pointer[state]
	closed      atomic.Bool
	notify      notifier
	wants       wants
}

// state is an immutable view of a book's head; writers replace it whole.
type state struct {
	head   *Head
	signed bool // false only for an empty book nobody has signed yet
	frozen bool
	// recent holds the nodes of the append that made this state, when it
	// was small (recent.go): proofs of its pages need not read them back.
	recent *recentNodes
}

// Open opens the book whose pages live in pdb under prefix. With a non-nil
// secret the book is writable; secret must belong to key. The caller owns
// pdb and must give every book a distinct prefix that is not a prefix of
// another book's.
func Open(pdb *pebble.DB, prefix []byte, key ed25519.PublicKey, secret ed25519.PrivateKey, opts *Options) (*Book, error) {
	if len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d", ErrVerify, len(key), ed25519.PublicKeySize)
	}
	if secret != nil && (len(secret) != ed25519.PrivateKeySize || !key.Equal(secret.Public())) {
		return nil, fmt.Errorf("book: secret key does not match the book key")
	}
	o := opts.withDefaults()
	b := &Book{
		pdb: pdb, keys: keys{prefix: append([]byte(nil), prefix...)},
		key: append(ed25519.PublicKey(nil), key...), secret: secret,
		dkey: DiscoveryKey(key), opts: o, name: o.Name,
	}
	if b.name == "" {
		b.name = hex.EncodeToString(key)
	}
	b.notify.init()
	st, err := b.loadState()
	if err != nil {
		return nil, err
	}
	b.state.Store(st)
	return b, nil
}

// loadState reads and verifies the stored head, or returns the empty state.
func (b *Book) loadState() (*state, error) {
	v, closer, err := b.pdb.Get(b.keys.head())
	if errors.Is(err, pebble.ErrNotFound) {
		return emptyState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("book %s: read head: %w", b.name, err)
	}
	defer closer.Close()
	h, frozen, err := decodeHead(v)
	if err != nil {
		return nil, fmt.Errorf("book %s: %w", b.name, err)
	}
	if err := h.Verify(b.key); err != nil {
		return nil, fmt.Errorf("book %s: %w: stored head: %v", b.name, ErrCorrupt, err)
	}
	return &state{head: h, signed: true, frozen: frozen}, nil
}

func emptyState() *state {
	return &state{head: &Head{TreeHash: TreeHash(nil)}}
}

// Key returns the book's public key.
func (b *Book) Key() ed25519.PublicKey { return b.key }

// DiscoveryKey returns the key peers use to find each other for this book.
func (b *Book) DiscoveryKey() [32]byte { return b.dkey }

// Name returns the label given in Options, or the key in hex.
func (b *Book) Name() string { return b.name }

// Writable reports whether this book holds the secret key.
func (b *Book) Writable() bool { return b.secret != nil }

// Length returns the signed number of pages (some may not be stored here).
func (b *Book) Length() uint64 { return b.state.Load().head.Length }

// ByteLength returns the signed total size of the pages.
func (b *Book) ByteLength() uint64 { return b.state.Load().head.ByteLength }

// Fork returns the fork id; it grows on every truncate.
func (b *Book) Fork() uint64 { return b.state.Load().head.Fork }

// Head returns a copy of the current signed head. Signed is false for an
// empty book that has never been signed.
func (b *Book) Head() (h *Head, signed bool) {
	s := b.state.Load()
	return s.head.Clone(), s.signed
}

// Frozen reports whether an equivocation froze the book.
func (b *Book) Frozen() bool { return b.state.Load().frozen }

// Close releases the book. Blocked Get and Wait calls return ErrClosed.
// It does not close the Pebble instance, which the caller owns.
func (b *Book) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	b.mu.Lock() // wait for a write in progress
	b.notify.close()
	b.mu.Unlock()
	if p := b.asyncTailNow(); p != nil {
		<-p.done // pending async appends fail now (closed); wait for the last
	}
	return nil
}

func (b *Book) checkOpen() error {
	if b.closed.Load() {
		return ErrClosed
	}
	return nil
}

// setState publishes a new state and wakes readers. Call with b.mu held.
func (b *Book) setState(s *state) {
	b.state.Store(s)
	b.notify.publish(Update{Length: s.head.Length, ByteLength: s.head.ByteLength, Fork: s.head.Fork})
}

// Closed reports whether Close was called.
func (b *Book) Closed() bool { return b.closed.Load() }
