package db

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Info returns the catalogue entry of the book with key.
func (d *DB) Info(key ed25519.PublicKey) (*Info, error) {
	if err := d.checkOpen(); err != nil {
		return nil, err
	}
	return d.info(key)
}

func (d *DB) info(key ed25519.PublicKey) (*Info, error) {
	v, closer, err := d.pdb.Get(keyByKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("db: book %x: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return decodeInfo(key, v)
}

// LookupName returns the catalogue entry of the writable book called name.
func (d *DB) LookupName(name string) (*Info, error) {
	return d.lookupVia(keyByName(name), "name "+name)
}

// LookupDiscoveryKey returns the catalogue entry of the book whose
// discovery key is dk.
func (d *DB) LookupDiscoveryKey(dk [32]byte) (*Info, error) {
	return d.lookupVia(keyByDKey(dk[:]), fmt.Sprintf("discovery key %x", dk))
}

func (d *DB) lookupVia(k []byte, what string) (*Info, error) {
	if err := d.checkOpen(); err != nil {
		return nil, err
	}
	v, closer, err := d.pdb.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("db: book with %s: %w", what, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	key := append(ed25519.PublicKey(nil), v...)
	closer.Close()
	return d.info(key)
}

// Books lists the catalogue in key order.
func (d *DB) Books() ([]*Info, error) {
	if err := d.checkOpen(); err != nil {
		return nil, err
	}
	it, err := d.pdb.NewIter(&pebble.IterOptions{LowerBound: catKey('k', nil), UpperBound: catKey('k'+1, nil)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*Info
	for it.First(); it.Valid(); it.Next() {
		in, err := decodeInfo(it.Key()[2:], it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, it.Error()
}

func (d *DB) checkOpen() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	return nil
}

// Names returns the names of the writable books whose names start with
// prefix, in byte order (one scan of the name index, not of the
// catalogue).
func (d *DB) Names(prefix string) ([]string, error) {
	if err := d.checkOpen(); err != nil {
		return nil, err
	}
	lo := keyByName(prefix)
	it, err := d.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []string
	for it.First(); it.Valid(); it.Next() {
		out = append(out, string(it.Key()[len(keyByName("")):]))
	}
	return out, it.Error()
}

// prefixEnd returns the smallest key greater than every key starting
// with p (nil: none).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i]++; end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
