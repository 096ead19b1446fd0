package vault

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/vault/pb"
)

// Profile is a peer's profile record, as the newest page of its profile
// book says.
type Profile struct {
	Name   string
	Status string
	Addrs  []ma.Multiaddr
	Time   time.Time
}

// ProfileBook is the peer's profile book (writable, offered to peers that
// know its key).
func (v *Vault) ProfileBook() *book.Book { return v.profile }

// Profile returns this peer's current profile.
func (v *Vault) Profile(ctx context.Context) (*Profile, *pb.Profile, error) {
	return ReadProfile(ctx, v.profile)
}

// ReadProfile decodes the newest page of a profile book (any peer's).
func ReadProfile(ctx context.Context, b *book.Book) (*Profile, *pb.Profile, error) {
	n := b.Length()
	if n == 0 {
		return nil, nil, fmt.Errorf("vault: profile book %x is empty", b.Key()[:8])
	}
	page, err := b.Get(ctx, n-1, &book.GetOptions{LocalOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("vault: profile: %w", err)
	}
	var rec pb.Profile
	if err := proto.Unmarshal(page, &rec); err != nil {
		return nil, nil, fmt.Errorf("vault: profile page %d: %w", n-1, err)
	}
	p := &Profile{Name: rec.Name, Status: rec.Status, Time: time.UnixMilli(rec.Time)}
	for _, a := range rec.Addrs {
		if m, err := ma.NewMultiaddrBytes(a); err == nil {
			p.Addrs = append(p.Addrs, m)
		}
	}
	return p, &rec, nil
}

// SetProfile appends a profile page with a new name and status (and the
// current addresses).
func (v *Vault) SetProfile(ctx context.Context, name, status string) error {
	return v.writeProfile(ctx, &name, &status)
}

// startProfile writes the first profile page of a new vault, a new one
// when the name or addresses changed since the last run, and then one
// whenever the host's addresses change. Offline, the addresses recorded
// stay as they are.
func (v *Vault) startProfile(ctx context.Context) error {
	var name *string
	if v.profile.Length() == 0 {
		name = &v.o.Name
	}
	if err := v.writeProfile(ctx, name, nil); err != nil {
		return err
	}
	if v.swarm == nil {
		return nil // offline: the addresses do not change
	}
	sub, err := v.swarm.Host().EventBus().Subscribe(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		return fmt.Errorf("vault: profile: %w", err)
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		defer sub.Close()
		for {
			select {
			case <-v.ctx.Done():
				return
			case <-sub.Out():
				v.reportError(v.writeProfile(v.ctx, nil, nil))
			}
		}
	}()
	return nil
}

// writeProfile appends a profile page if anything changed; nil fields
// keep their current value.
func (v *Vault) writeProfile(ctx context.Context, name, status *string) error {
	rec := &pb.Profile{PeerId: []byte(v.id)}
	if _, cur, err := v.Profile(ctx); err == nil {
		rec.Name, rec.Status = cur.Name, cur.Status
	}
	if name != nil {
		rec.Name = *name
	}
	if status != nil {
		rec.Status = *status
	}
	for _, a := range v.Addrs() {
		rec.Addrs = append(rec.Addrs, a.Bytes())
	}
	slices.SortFunc(rec.Addrs, bytes.Compare)
	if _, cur, err := v.Profile(ctx); err == nil && cur.Name == rec.Name && cur.Status == rec.Status &&
		slices.EqualFunc(cur.Addrs, rec.Addrs, bytes.Equal) {
		return nil
	}
	rec.Time = time.Now().UnixMilli()
	page, err := proto.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := v.profile.Append(ctx, page); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("vault: profile: %w", err)
	}
	return nil
}
