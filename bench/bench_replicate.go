package bench

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The replication shapes: a writer and a reader DB in one process, each
// behind its own libp2p host on TCP loopback (the default security and
// muxer), replicating over one stream with db.ProtocolID.

// notifyInterval is how often the notify shape appends.
const notifyInterval = 2 * time.Millisecond

// replPair is a writer and a reader DB with their hosts, connected but not
// yet replicating.
type replPair struct {
	wdb, rdb *db.DB
	w, r     *book.Book
	wh, rh   host.Host
	served   chan *db.Session
	sessions []*db.Session
}

// newReplPair opens both DBs (the writer's book holds pages), starts both
// hosts and connects them.
func newReplPair(ctx context.Context, dir string, c BenchConfig, pages [][]byte) (_ *replPair, err error) {
	p := &replPair{served: make(chan *db.Session, 1)}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if p.wdb, err = db.Open(dir, &db.Options{NoSync: !c.Sync}); err != nil {
		return nil, err
	}
	if p.rdb, err = db.Open(dir+"-reader", &db.Options{NoSync: !c.Sync}); err != nil {
		return nil, err
	}
	if p.w, err = p.wdb.Book(ctx, "bench"); err != nil {
		return nil, err
	}
	for i := 0; i < len(pages); i += 1000 {
		if _, err := p.w.AppendWith(ctx, book.AppendOptions{Sync: book.SyncOff}, pages[i:min(i+1000, len(pages))]...); err != nil {
			return nil, err
		}
	}
	if p.r, err = p.rdb.OpenKey(ctx, p.w.Key()); err != nil {
		return nil, err
	}
	for _, h := range []*host.Host{&p.wh, &p.rh} {
		if *h, err = libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0")); err != nil {
			return nil, err
		}
	}
	p.wh.SetStreamHandler(db.ProtocolID, p.serve)
	err = p.rh.Connect(ctx, peer.AddrInfo{ID: p.wh.ID(), Addrs: p.wh.Addrs()})
	return p, err
}

// serve runs the writer's side of a replication stream.
func (p *replPair) serve(s network.Stream) {
	sess, err := p.wdb.Replicate(context.Background(), s, db.ReplicateOptions{
		LocalID: []byte(p.wh.ID()), RemoteID: []byte(s.Conn().RemotePeer()),
		Books: []ed25519.PublicKey{p.w.Key()},
	})
	if err != nil {
		s.Reset()
		return
	}
	p.served <- sess
}

// replicate opens the stream from the reader and starts both sessions.
func (p *replPair) replicate(ctx context.Context) error {
	s, err := p.rh.NewStream(ctx, p.wh.ID(), db.ProtocolID)
	if err != nil {
		return err
	}
	sess, err := p.rdb.Replicate(ctx, s, db.ReplicateOptions{
		LocalID: []byte(p.rh.ID()), RemoteID: []byte(p.wh.ID()),
		Books: []ed25519.PublicKey{p.w.Key()},
	})
	if err != nil {
		s.Reset()
		return err
	}
	p.sessions = append(p.sessions, sess)
	select {
	case ws := <-p.served:
		p.sessions = append(p.sessions, ws)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *replPair) close() {
	for _, s := range p.sessions {
		s.Close()
	}
	for _, h := range []host.Host{p.rh, p.wh} {
		if h != nil {
			h.Close()
		}
	}
	for _, d := range []*db.DB{p.rdb, p.wdb} {
		if d != nil {
			d.Close()
		}
	}
}

// sessionErr returns why a session ended early, if one did.
func (p *replPair) sessionErr() error {
	for _, s := range p.sessions {
		select {
		case <-s.Done():
			return fmt.Errorf("replication session ended: %v", s.Err())
		default:
		}
	}
	return nil
}

// benchReplicate times a reader downloading a whole book of c.Pages pages:
// from opening the stream until the reader holds every page. Before that it
// times the same bytes copied over one raw stream between the same hosts
// (rawCopy), the baseline.
func benchReplicate(ctx context.Context, dir string, c BenchConfig) (_ []time.Duration, raw time.Duration, _ error) {
	pages := randomPages(c.Pages, c.Size)
	p, err := newReplPair(ctx, dir, c, pages)
	if err != nil {
		return nil, 0, err
	}
	defer p.close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if raw, err = p.rawCopy(ctx, pages); err != nil {
		return nil, 0, err
	}
	lat, err := p.download(ctx, pages, c.CPUProfile)
	return lat, raw, err
}

// download replicates the writer's book to the reader and times it.
// With profile set, a CPU profile of the download goes to that file.
func (p *replPair) download(ctx context.Context, pages [][]byte, profile string) ([]time.Duration, error) {
	sub := p.r.Subscribe()
	defer sub.Close()
	n := uint64(len(pages))
	if profile != "" {
		stop, err := startCPUProfile(profile)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	t := time.Now()
	if err := p.replicate(ctx); err != nil {
		return nil, err
	}
	if err := waitContiguous(ctx, p, sub, n); err != nil {
		return nil, err
	}
	lat := []time.Duration{time.Since(t)}
	got, err := p.r.Get(ctx, n-1, &book.GetOptions{LocalOnly: true})
	if err != nil || string(got) != string(pages[n-1]) {
		return nil, fmt.Errorf("the reader's last page is wrong (%v)", err)
	}
	return lat, nil
}

// waitContiguous waits until the reader holds pages [0, n).
func waitContiguous(ctx context.Context, p *replPair, sub *book.Subscription, n uint64) error {
	var have uint64
	check := time.NewTicker(100 * time.Millisecond)
	defer check.Stop()
	for {
		var err error
		if have, err = p.r.Contiguous(have); err != nil {
			return err
		}
		if have >= n {
			return nil
		}
		select {
		case <-sub.C:
		case <-check.C:
			if err := p.sessionErr(); err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("the reader holds %d of %d pages: %w", have, n, ctx.Err())
		}
	}
}

// benchNotify appends one page every notifyInterval, c.Pages times, and
// times each from the Append call until the reader's subscription reports
// the new length.
func benchNotify(ctx context.Context, dir string, c BenchConfig) ([]time.Duration, error) {
	pages := randomPages(c.Pages+1, c.Size)
	p, err := newReplPair(ctx, dir, c, pages[:1])
	if err != nil {
		return nil, err
	}
	defer p.close()
	sub := p.r.Subscribe()
	defer sub.Close()
	if err := p.replicate(ctx); err != nil {
		return nil, err
	}
	if err := waitSub(ctx, sub, 1, 30*time.Second); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, c.Pages)
	next := time.Now()
	for i, page := range pages[1:] {
		next = next.Add(notifyInterval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		} else {
			next = time.Now() // behind: keep the spacing rather than burst
		}
		t := time.Now()
		if _, err := p.w.Append(ctx, page); err != nil {
			return nil, err
		}
		if err := waitSub(ctx, sub, uint64(i+2), 10*time.Second); err != nil {
			return nil, errors.Join(err, p.sessionErr())
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

// waitSub waits until sub reports a length of at least n.
func waitSub(ctx context.Context, sub *book.Subscription, n uint64, timeout time.Duration) error {
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		select {
		case u, ok := <-sub.C:
			if !ok {
				return fmt.Errorf("the reader's book closed")
			}
			if u.Length >= n {
				return nil
			}
		case <-tm.C:
			return fmt.Errorf("the reader never reached length %d", n)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
