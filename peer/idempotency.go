package peer

import (
	"bytes"
	"context"
	"fmt"

	"golang.org/x/crypto/blake2b"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// Idempotency keys. A write with a key stores the key's hash in its
// envelope (Meta.idempotency), in the same batch as the message: after a
// crash the key is on disk exactly when the message is. Each task's root
// keeps an index of the hashes in this peer's latest IdempotencyWindow
// messages, built on the first keyed write after Open from the log itself
// and kept up to date by each keyed write. All of it runs under sendMu.

// keyIndex is one root's index: hash → index in this peer's log.
type keyIndex struct {
	at    map[string]uint64
	order []keyAt // by index, oldest first, to forget what leaves the window
}

type keyAt struct {
	hash  string
	index uint64
}

// keyHash checks a key and returns its hash.
func keyHash(key string) ([]byte, error) {
	if len(key) > MaxKeySize {
		return nil, fmt.Errorf("%w: idempotency key of %d bytes (max %d)", ErrInvalid, len(key), MaxKeySize)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return nil, fmt.Errorf("%w: an idempotency key is printable ASCII (byte %d is %#x)", ErrInvalid, i, key[i])
		}
	}
	h := blake2b.Sum256([]byte(key))
	return h[:], nil
}

// findKey looks for this peer's message of task written with idem: when
// it is there and says the same as (typ, data, refs), ok is true; when it
// says something else, the error is ErrKeyReused.
func (p *Peer) findKey(ctx context.Context, task TaskID, typ pb.Type, data []byte, refs []*pb.Ref, idem []byte) (h Head, ok bool, err error) {
	p.mu.Lock()
	r := p.roots[p.rootOf(task)]
	if r == nil {
		p.mu.Unlock()
		return Head{}, false, nil // write says why
	}
	n, get := p.myLog(r)
	p.mu.Unlock()
	if err := p.loadKeys(ctx, r, n, get); err != nil {
		return Head{}, false, err
	}
	i, found := r.keys.at[string(idem)]
	if !found || i+uint64(p.o.IdempotencyWindow) < n {
		return Head{}, false, nil
	}
	page, err := get(ctx, i)
	if err != nil {
		return Head{}, false, fmt.Errorf("peer: idempotency key's message %d: %w", i, err)
	}
	env, err := decode(p.me, i, page)
	if err != nil {
		return Head{}, false, fmt.Errorf("peer: idempotency key's message %d: %w", i, err)
	}
	h = Head{Author: p.me, Index: i}
	if !sameDraft(env, task, typ, data, refs) {
		return Head{}, false, fmt.Errorf("%w: it wrote %s", ErrKeyReused, h)
	}
	return h, true, nil
}

// sameDraft reports whether env is the message (task, typ, data, refs)
// would write, but for its causal links, clock and time.
func sameDraft(env *pb.Envelope, task TaskID, typ pb.Type, data []byte, refs []*pb.Ref) bool {
	var had []*pb.Ref
	for _, r := range env.Refs {
		if r.Kind != pb.RefKind_REF_SEEN {
			had = append(had, r)
		}
	}
	if env.Type != typ || !bytes.Equal(env.Data, data) || !bytes.Equal(env.Meta.Task, task[:]) || len(had) != len(refs) {
		return false
	}
	for i := range refs {
		if !proto.Equal(had[i], refs[i]) {
			return false
		}
	}
	return true
}

// loadKeys builds r's index from this peer's latest messages, once.
func (p *Peer) loadKeys(ctx context.Context, r *root, n uint64, get func(context.Context, uint64) ([]byte, error)) error {
	if r.keys != nil {
		return nil
	}
	ks := &keyIndex{at: map[string]uint64{}}
	from := uint64(1)
	if w := uint64(p.o.IdempotencyWindow); n > w+1 {
		from = n - w
	}
	for i := from; i < n; i++ {
		page, err := get(ctx, i)
		if err != nil {
			return fmt.Errorf("peer: reading message %d for idempotency keys: %w", i, err)
		}
		if env, err := decode(p.me, i, page); err == nil && len(env.Meta.Idempotency) > 0 {
			ks.add(string(env.Meta.Idempotency), i)
		}
	}
	r.keys = ks
	return nil
}

// keepKey indexes the message just written at index n with idem.
func (p *Peer) keepKey(r *root, idem []byte, n uint64) {
	if r.keys == nil {
		return // loaded on the next keyed write, this message included
	}
	r.keys.add(string(idem), n)
	for len(r.keys.order) > 0 && r.keys.order[0].index+uint64(p.o.IdempotencyWindow) < n+1 {
		k := r.keys.order[0]
		if r.keys.at[k.hash] == k.index {
			delete(r.keys.at, k.hash)
		}
		r.keys.order = r.keys.order[1:]
	}
}

func (ks *keyIndex) add(hash string, i uint64) {
	ks.at[hash] = i
	ks.order = append(ks.order, keyAt{hash: hash, index: i})
}
