package peer

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/peer/pb"
	"github.com/folio-p2p/folio/vault"
)

const journalName = vault.PrivatePrefix + "messenger"

// Peer is one member of the task messenger: a vault plus tasks, invites,
// books per member pair and timelines. It is safe for concurrent use.
type Peer struct {
	o       Options
	v       *vault.Vault
	journal *book.Book

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{}
	// retryKick wakes the retry loop (kickRetry); introEnded is when our
	// latest introduction to each member peer ended (under mu).
	retryKick  chan struct{}
	introEnded map[peer.ID]time.Time

	sendMu sync.Mutex // serialises writes to this peer's logs
	scanMu sync.Mutex // one scan at a time, so each page is read (and offered) once

	gate   *gate      // what handshakes read, without Peer.mu
	events eventQueue // what lower layers reported, for the shell

	mu     sync.Mutex
	closed bool
	core                // the messenger's state: changed by the core's steps, under mu
	wakes  wakes        // which tasks the watcher must read again
	jq     journalQueue // records made under mu, appended by journalLoop
	waits  joinWaits    // the Joins waiting for a step in a task

	joinLooks  atomic.Int64 // how often Joins looked at their task (tests count them)
	retryScans atomic.Int64 // how often the retry loop looked at the pending introductions (tests count them)
}

// Open opens (or creates) the vault in dir and the messenger on it.
func Open(ctx context.Context, dir string, o *Options) (*Peer, error) {
	p := &Peer{o: o.withDefaults(), core: newCore(""), gate: newGate(), wakes: newWakes(), kick: make(chan struct{}, 1), retryKick: make(chan struct{}, 1), introEnded: map[peer.ID]time.Time{}}
	p.jq.wake = make(chan struct{}, 1)
	vo := vault.Options{}
	if p.o.Vault != nil {
		vo = *p.o.Vault
	}
	vo.Accept = p.accept
	vo.DB = p.dbOptions(vo.DB)
	vo.Offer = p.offerTo
	vo.Listener = p.listen(vo.Listener)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	// The vault may hand introductions to accept before Open returns:
	// the gate refuses them until the state is loaded (gate.open below).
	p.mu.Lock()
	v, err := vault.Open(ctx, dir, &vo)
	if err != nil {
		p.mu.Unlock()
		p.cancel()
		return nil, err
	}
	p.v, p.me = v, v.ID()
	fail := func(err error) (*Peer, error) {
		p.closed = true
		p.mu.Unlock()
		p.cancel()
		v.Close()
		return nil, err
	}
	if p.journal, err = v.DB().Book(ctx, journalName); err != nil {
		return fail(fmt.Errorf("peer: journal: %w", err))
	}
	if err := p.replay(ctx); err != nil {
		return fail(err)
	}
	p.mu.Unlock()
	p.gate.open(p.me)
	for _, r := range p.rootList() {
		p.repair(ctx, r)
	}
	p.scan()
	p.wg.Add(3)
	go p.watchLoop()
	go p.retryLoop()
	go p.journalLoop()
	// Meet the members again: each peer once, however many tasks it
	// shares with us.
	p.mu.Lock()
	met := map[peer.ID]bool{}
	for _, r := range p.roots {
		for _, m := range r.members {
			if len(m.addrs) > 0 && !met[m.id] {
				met[m.id] = true
				p.meet(m.id, m.addrs)
			}
		}
	}
	p.mu.Unlock()
	return p, nil
}

// Close stops the messenger and closes the vault.
func (p *Peer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.gate.shut()
	var subs []*Subscription
	for _, r := range p.roots {
		for s := range r.subs {
			subs = append(subs, s)
		}
	}
	p.mu.Unlock()
	for _, s := range subs {
		s.end(ErrClosed)
	}
	_ = p.flushJournal(context.Background())
	p.cancel()
	err := p.v.Close()
	p.wg.Wait()
	return err
}

// Vault is the vault underneath.
func (p *Peer) Vault() *vault.Vault { return p.v }

// ID is this peer's ID.
func (p *Peer) ID() peer.ID { return p.me }

func (p *Peer) rootList() []*root {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*root, 0, len(p.roots))
	for _, r := range p.roots {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].id[:]) < string(out[j].id[:]) })
	return out
}

// record appends one record to the journal.
func (p *Peer) record(ctx context.Context, rec *pb.Record) error {
	b, err := proto.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := p.journal.Append(ctx, b); err != nil {
		return fmt.Errorf("peer: journal: %w", err)
	}
	return nil
}

// replay folds the journal into memory. Call with p.mu held.
func (p *Peer) replay(ctx context.Context) error {
	n := p.journal.Length()
	for i := uint64(0); i < n; i++ {
		page, err := p.journal.Get(ctx, i, &book.GetOptions{LocalOnly: true})
		if err != nil {
			return fmt.Errorf("peer: journal page %d: %w", i, err)
		}
		var rec pb.Record
		if err := proto.Unmarshal(page, &rec); err != nil {
			return fmt.Errorf("peer: journal page %d: %w", i, err)
		}
		p.run(ctx, p.core.replay(&rec))
	}
	return nil
}

func decodeAddrs(bs [][]byte) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, b := range bs {
		if m, err := ma.NewMultiaddrBytes(b); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func encodeAddrs(as []ma.Multiaddr) [][]byte {
	out := make([][]byte, len(as))
	for i, a := range as {
		out[i] = a.Bytes()
	}
	return out
}
