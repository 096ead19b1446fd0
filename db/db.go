package db

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/folio-p2p/folio/book"
)

// DB holds many books in one Pebble instance. It is safe for concurrent use.
type DB struct {
	pdb      *pebble.DB
	dir      string
	opts     Options
	primary  [32]byte
	counters counters
	stalls   Stalls
	pacer    *pacer              // nil with Options.NoWritePacing or ReadOnly
	listener *book.EventListener // opts.EventListener wrapped with counters
	replSync *replSync           // nil: replicated pages are synced as stored

	mu       sync.Mutex            // guards books, next and closed
	books    map[string]*book.Book // by string(key)
	next     uint32
	closed   bool
	sessions map[*Session]struct{}
}

// Open opens (creating on first use) the DB in dir. A DB open in another
// process, or already open in this one, gives an error matching ErrLocked.
func Open(dir string, o *Options) (*DB, error) {
	opts := o.withDefaults()
	d := &DB{dir: dir, opts: opts, books: make(map[string]*book.Book)}
	d.listener = d.counters.wrap(opts.EventListener)
	if err := opts.FS.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("db: create %s: %w", dir, err)
	}
	lock, err := pebble.LockDirectory(dir, opts.FS)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is locked (close the other folio process first): %w", ErrLocked, dir, err)
	}
	defer lock.Close() // Pebble holds its own reference until it closes
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref()
	po := opts.pebbleOptions(cache)
	po.Lock = lock
	po.EventListener = d.stalls.Listener()
	if !opts.NoWritePacing && !opts.ReadOnly {
		d.pacer = newPacer(&opts)
		l := pebble.TeeEventListener(*po.EventListener, d.pacer.listener(opts.MemTableSize))
		po.EventListener = &l
	}
	pdb, err := pebble.Open(dir, po)
	if err != nil {
		if errors.Is(err, pebble.ErrDBDoesNotExist) { // only read-only opens do not create
			return nil, fmt.Errorf("db: %s: %w: no folio DB here: %w", dir, ErrNotFound, err)
		}
		return nil, fmt.Errorf("db: open %s: %w", dir, err)
	}
	d.pdb = pdb
	d.replSync = newReplSync(pdb, &opts)
	if err := d.loadMeta(); err != nil {
		pdb.Close()
		return nil, err
	}
	return d, nil
}

// loadMeta reads the primary key and pointer counter, creating them on
// first open in one synced batch.
func (d *DB) loadMeta() error {
	v, closer, err := d.pdb.Get(keyPrimary)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if d.opts.ReadOnly {
			return fmt.Errorf("db: %s: %w: no folio DB here", d.dir, ErrNotFound)
		}
		if _, err := rand.Read(d.primary[:]); err != nil {
			return err
		}
		d.next = 1
		b := d.pdb.NewBatch()
		defer b.Close()
		_ = b.Set(keyPrimary, d.primary[:], nil)
		_ = b.Set(keyNext, binary.LittleEndian.AppendUint32(nil, d.next), nil)
		return b.Commit(pebble.Sync)
	case err != nil:
		return fmt.Errorf("db: read primary key: %w", err)
	}
	if len(v) != len(d.primary) {
		closer.Close()
		return fmt.Errorf("db: %w: primary key is %d bytes", ErrCorrupt, len(v))
	}
	copy(d.primary[:], v)
	closer.Close()
	v, closer, err = d.pdb.Get(keyNext)
	if err != nil {
		return fmt.Errorf("db: %w: read pointer counter: %v", ErrCorrupt, err)
	}
	defer closer.Close()
	if len(v) != 4 {
		return fmt.Errorf("db: %w: pointer counter is %d bytes", ErrCorrupt, len(v))
	}
	d.next = binary.LittleEndian.Uint32(v)
	return nil
}

// Close closes every book, flushes Pebble's memtables and closes Pebble.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	sessions := d.sessions
	d.mu.Unlock()
	for s := range sessions { // outside d.mu: sessions call into the DB
		s.Close()
	}
	d.mu.Lock()
	for _, b := range d.books {
		b.Close()
	}
	if d.replSync != nil {
		d.replSync.close() // after the sessions: no proof is stored after it
	}
	var err error
	if !d.opts.ReadOnly {
		_, err = d.pdb.AsyncFlush() // don't wait: the WAL already holds every append
	}
	return errors.Join(err, d.pdb.Close())
}

// Book returns the writable book called name, creating it on first use.
// Its keypair derives from the DB's primary key and the name, so the same
// name is the same book after every restart.
func (d *DB) Book(ctx context.Context, name string) (*book.Book, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	sk := deriveKeypair(d.primary, name)
	return d.open(ctx, sk.Public().(ed25519.PublicKey), sk, name)
}

// OpenKey returns the book with key: read-only unless it is one of this
// DB's own named books. A book unknown here is added to the catalogue.
func (d *DB) OpenKey(ctx context.Context, key ed25519.PublicKey) (*book.Book, error) {
	if len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("db: %w: key of %d bytes", ErrNotFound, len(key))
	}
	if in, err := d.Info(key); err == nil && in.Writable {
		return d.Book(ctx, in.Name)
	}
	return d.open(ctx, key, nil, "")
}

func (d *DB) open(ctx context.Context, key ed25519.PublicKey, sk ed25519.PrivateKey, name string) (*book.Book, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	if b, ok := d.books[string(key)]; ok && !b.Closed() {
		return b, nil
	}
	in, err := d.info(key)
	if errors.Is(err, ErrNotFound) {
		in, err = d.register(key, name)
	}
	if err != nil {
		return nil, err
	}
	label := in.Name
	if label == "" {
		label = fmt.Sprintf("%x", key[:8])
	}
	if d.opts.ReadOnly {
		sk = nil // a read-only DB hands out read-only books: writes give ErrReadOnly
	}
	b, err := book.Open(d.pdb, bookPrefix(in.Pointer), key, sk, d.opts.bookOptions(label, d.listener, d.pacer))
	if err != nil {
		return nil, err
	}
	d.books[string(key)] = b
	return b, nil
}

// register adds a book to the catalogue. Call with d.mu held.
func (d *DB) register(key ed25519.PublicKey, name string) (*Info, error) {
	if d.opts.ReadOnly {
		return nil, fmt.Errorf("db: %w: cannot add a book to a DB opened read-only", ErrReadOnly)
	}
	in := &Info{Pointer: d.next, Key: key, DiscoveryKey: book.DiscoveryKey(key), Writable: name != "", Name: name}
	b := d.pdb.NewBatch()
	defer b.Close()
	_ = b.Set(keyByKey(key), encodeInfo(in), nil)
	_ = b.Set(keyByDKey(in.DiscoveryKey[:]), key, nil)
	if name != "" {
		_ = b.Set(keyByName(name), key, nil)
	}
	_ = b.Set(keyNext, binary.LittleEndian.AppendUint32(nil, d.next+1), nil)
	// Another's book is catalogued as its replicated pages are stored:
	// without an fsync, synced with them in the next group. Its entry
	// precedes every write to it in the log, so any synced write after
	// it (a grouped sync, a journal record naming it) makes it durable,
	// and a crash that loses it loses a book met again at the next
	// handshake. One of our own books is synced at once: Book's returned
	// book is durable, empty or not.
	sync, remote := pebble.Sync, name == "" && d.replSync != nil
	if remote {
		sync = pebble.NoSync
	}
	if err := b.Commit(sync); err != nil {
		return nil, fmt.Errorf("db: register book: %w", err)
	}
	if remote {
		d.replSync.stored()
	}
	d.next++
	return in, nil
}
