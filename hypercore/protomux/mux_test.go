package protomux

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/folio-p2p/folio/hypercore/cenc"
	"github.com/folio-p2p/folio/hypercore/internal/fixture"
)

// script is a Transport that reads canned messages and records writes.
type script struct {
	mu      sync.Mutex
	in      [][]byte
	written [][]byte
}

func (s *script) Read() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.in) == 0 {
		return nil, io.EOF
	}
	m := s.in[0]
	s.in = s.in[1:]
	return m, nil
}

func (s *script) Write(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written = append(s.written, append([]byte(nil), b...))
	return nil
}

type event struct {
	kind string
	typ  uint64
	msg  []byte
}

type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}
func (r *recorder) Opened(_ *Channel, hs []byte) error {
	r.add(event{"open", 0, append([]byte(nil), hs...)})
	return nil
}
func (r *recorder) Message(_ *Channel, typ uint64, msg []byte) error {
	r.add(event{"msg", typ, append([]byte(nil), msg...)})
	return nil
}
func (r *recorder) Closed(*Channel) { r.add(event{"close", 0, nil}) }

// TestCapturedSessions plays each side of the captured Node sessions into
// a Mux that opens the same channel: our OPEN equals Node's byte for byte,
// and every message Node sent (batched or not) reaches the handler, in
// order, after Opened with the peer's handshake.
func TestCapturedSessions(t *testing.T) {
	for _, mode := range []string{"compat-mode", "default-mode"} {
		c2s, s2c := fixture.Plaintexts(t, mode)
		for name, side := range map[string]struct{ mine, theirs [][]byte }{"client": {c2s, s2c}, "server": {s2c, c2s}} {
			open := side.mine[0]
			d := cenc.NewDecoder(open[2:])
			_, proto, id := d.Uint(), d.String(), d.Buffer()
			myHS := d.Rest()
			tr := &script{in: side.theirs}
			m := New(tr, nil)
			rec := &recorder{}
			if _, err := m.Open(proto, id, myHS, rec); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tr.written[0], open) {
				t.Errorf("%s %s: OPEN %x, Node sent %x", mode, name, tr.written[0], open)
			}
			if err := m.Run(context.Background()); !errors.Is(err, io.EOF) {
				t.Fatalf("%s %s: %v", mode, name, err)
			}
			theirOpen := cenc.NewDecoder(side.theirs[0][2:])
			_, _, _ = theirOpen.Uint(), theirOpen.String(), theirOpen.Buffer()
			if len(rec.events) < 3 || rec.events[0].kind != "open" || !bytes.Equal(rec.events[0].msg, theirOpen.Rest()) {
				t.Fatalf("%s %s: events %v", mode, name, rec.events)
			}
			// Count what Node sent, unpacking its batches by hand.
			want := 0
			for _, f := range side.theirs[1:] {
				if f[0] != 0 {
					want++
					continue
				}
				bd := cenc.NewDecoder(f[2:])
				bd.Uint()
				for bd.Len() > 0 {
					if n := bd.Uint(); n > 0 {
						bd.Fixed(int(n))
						want++
					} else {
						bd.Uint()
					}
				}
			}
			if got := len(rec.events) - 2; got != want || rec.events[len(rec.events)-1].kind != "close" {
				t.Errorf("%s %s: %d messages delivered, Node sent %d", mode, name, got, want)
			}
		}
	}
}

// pipe is an in-memory Transport pair.
type pipe struct {
	in  chan []byte
	out chan []byte
}

func (p *pipe) Read() ([]byte, error) {
	b, ok := <-p.in
	if !ok {
		return nil, io.EOF
	}
	return b, nil
}
func (p *pipe) Write(b []byte) error {
	defer func() { recover() }() // written after the peer went away
	p.out <- append([]byte(nil), b...)
	return nil
}

func pipes() (*pipe, *pipe) {
	a, b := make(chan []byte, 64), make(chan []byte, 64)
	return &pipe{in: a, out: b}, &pipe{in: b, out: a}
}

// TestPairRejectClose: two Go muxes pair two channels of one protocol,
// the peer rejects a name it does not serve, and a close reaches the
// other side.
func TestPairRejectClose(t *testing.T) {
	pa, pb := pipes()
	ra, rb, rc := &recorder{}, &recorder{}, &recorder{}
	var b *Mux
	b = New(pb, &Options{OnOpen: func(m *Mux, proto string, id []byte) {
		if string(id) == "yes" {
			_, _ = m.Open(proto, id, []byte("hs-b"), rb)
		}
	}})
	a := New(pa, nil)
	done := make(chan error, 2)
	go func() { done <- a.Run(context.Background()) }()
	go func() { done <- b.Run(context.Background()) }()
	chYes, _ := a.Open("p", []byte("yes"), []byte("hs-a"), ra)
	_, _ = a.Open("p", []byte("no"), nil, rc)
	waitFor(t, func() bool { return len(events(ra)) >= 1 && len(events(rc)) >= 1 })
	if e := events(ra)[0]; e.kind != "open" || string(e.msg) != "hs-b" {
		t.Fatalf("a: %v", events(ra))
	}
	if e := events(rc)[0]; e.kind != "close" {
		t.Fatalf("rejected channel: %v", events(rc))
	}
	_ = chYes.Send(7, []byte("hello"))
	waitFor(t, func() bool { return len(events(rb)) >= 2 })
	if e := events(rb)[1]; e.typ != 7 || string(e.msg) != "hello" {
		t.Fatalf("b: %v", events(rb))
	}
	_ = chYes.Close()
	waitFor(t, func() bool { return len(events(rb)) >= 3 })
	if err := chYes.Send(1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	close(pa.out)
	close(pb.out)
	<-done
	<-done
}

// TestBadOpen: a channel id that skips ahead is a protocol violation, as
// in Node; so are more channels than allowed.
func TestBadOpen(t *testing.T) {
	open := func(id uint64) []byte {
		b := cenc.AppendUint([]byte{0, ctlOpen}, id)
		return cenc.AppendBuffer(cenc.AppendString(b, "p"), []byte{byte(id)})
	}
	m := New(&script{in: [][]byte{open(2)}}, nil)
	if err := m.Run(context.Background()); !errors.Is(err, ErrProtocol) {
		t.Fatalf("skipped id: %v", err)
	}
	keep := func(m *Mux, proto string, id []byte) { _, _ = m.Open(proto, id, nil, &recorder{}) }
	m = New(&script{in: [][]byte{open(1), open(2), open(3)}}, &Options{MaxChannels: 2, OnOpen: keep})
	if err := m.Run(context.Background()); !errors.Is(err, ErrProtocol) {
		t.Fatalf("too many channels: %v", err)
	}
}

func FuzzMux(f *testing.F) {
	c2s, s2c := fixture.Plaintexts(f, "compat-mode")
	for _, b := range append(c2s, s2c...) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		accept := func(m *Mux, proto string, id []byte) { _, _ = m.Open(proto, id, nil, &recorder{}) }
		m := New(&script{in: [][]byte{msg, msg}}, &Options{OnOpen: accept})
		_ = m.Run(context.Background())
	})
}

func events(r *recorder) []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}
