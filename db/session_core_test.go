package db

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/db/pb"
)

// TestSessionCore drives the session's core (step, onLocalChange) by hand
// from the scripts in testdata/session, on real DBs: a writer's book and,
// facing the session under test, a remote played by the script. Each
// command prints what the core sent and the channel's state after it.
// Run with -rewrite to regenerate the expected output after a deliberate
// change.
//
//	writer pages=N          the writer's book, N pages (once, first)
//	append pages=N          the writer appends N pages
//	reader pages=K          a reader DB holding the writer's head and its
//	                        first K pages
//	reader absent           a reader DB without the book
//	hold                    the reader's DB gets the book (empty), as an
//	                        introduction adds it
//	session side=writer|reader [sparse] [empty] [range-bytes=N] [remote-range-bytes=M] [inflight=K]
//	                        the core under test, offering the book (empty:
//	                        offering nothing yet); N is its MaxRangeBytes,
//	                        M the remote's (default: both 512 KiB), K its
//	                        MaxInflight (default 32)
//	open-local              the session offers the book now (Session.Open)
//	recv                    feed it messages, one a line:
//	  open [cap=bad]            the remote opens the book on its channel 7
//	  sync len=L [contig=C] [fork=F] [follow]
//	  answer id=I               the writer's honest answer to our request I
//	  push from=F               the writer's head and pages from F (id 0)
//	  nodata id=I | close | request id=I start=S end=E [upgrade=U]
//	local                   the book changed (what the watcher reports)
//
// Lines "send" are the messages the core sent, "book" the book operations
// it left for the shell (answer, push, apply), in order; the test performs
// them as the shell does and feeds the results back.
func TestSessionCore(t *testing.T) {
	datadriven.Walk(t, "testdata/session", func(t *testing.T, path string) {
		e := &coreEnv{asked: map[uint64]*pb.Request{}}
		datadriven.RunTest(t, path, e.run)
	})
}

// coreEnv is one script's world.
type coreEnv struct {
	wdb, rdb *DB
	w, r     *book.Book
	s        *Session
	asked    map[uint64]*pb.Request // our requests, by id
	// remoteRange is the scripted remote's MaxRangeBytes: its answers
	// stop after the page that brings them to it.
	remoteRange int
}

const coreRemoteChan = 7

func (e *coreEnv) run(t *testing.T, d *datadriven.TestData) string {
	ctx := context.Background()
	arg := func(k string, def uint64) uint64 {
		if a, ok := d.Arg(k); ok {
			n, err := strconv.ParseUint(a.SingleVal(t), 10, 64)
			if err != nil {
				d.Fatalf(t, "%s: %v", k, err)
			}
			return n
		}
		return def
	}
	switch d.Cmd {
	case "writer":
		e.wdb = openTest(t, t.TempDir(), &Options{NoSync: true})
		var err error
		if e.w, err = e.wdb.Book(ctx, "w"); err != nil {
			d.Fatalf(t, "%v", err)
		}
		scnFill(t, e.w, "w", 0, arg("pages", 0), 5)
		return fmt.Sprintf("writer length %d", e.w.Length())
	case "append":
		scnFill(t, e.w, "w", e.w.Length(), e.w.Length()+arg("pages", 1), 5)
		return fmt.Sprintf("writer length %d", e.w.Length())
	case "reader":
		e.rdb = openTest(t, t.TempDir(), &Options{NoSync: true})
		if d.HasArg("absent") {
			return "reader without the book"
		}
		var err error
		if e.r, err = e.rdb.OpenKey(ctx, e.w.Key()); err != nil {
			d.Fatalf(t, "%v", err)
		}
		if k := arg("pages", 0); k > 0 {
			// The writer's head with its first k pages, as an earlier
			// session would have left them.
			p, err := e.w.Proof(book.ProofRequest{Range: &book.RangeRequest{Start: 0, End: k}, Upgrade: &book.UpgradeRequest{}})
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			if err := e.r.ApplyProof(ctx, p); err != nil {
				d.Fatalf(t, "%v", err)
			}
		}
		return fmt.Sprintf("reader length %d", e.r.Length())
	case "session":
		d1 := e.rdb
		if a, _ := d.Arg("side"); a.SingleVal(t) == "writer" {
			d1 = e.wdb
		}
		e.s = newCoreSession(t, d1, ReplicateOptions{Sparse: d.HasArg("sparse"),
			MaxRangeBytes: int(arg("range-bytes", 0)), MaxInflight: int(arg("inflight", 0))})
		e.remoteRange = int(arg("remote-range-bytes", uint64(e.s.o.MaxRangeBytes)))
		e.asked = map[uint64]*pb.Request{}
		if d.HasArg("empty") {
			return e.result(nil)
		}
		if err := e.s.openBooks([]ed25519.PublicKey{e.w.Key()}); err != nil {
			d.Fatalf(t, "%v", err)
		}
		return e.result(nil)
	case "hold":
		var err error
		if e.r, err = e.rdb.OpenKey(ctx, e.w.Key()); err != nil {
			d.Fatalf(t, "%v", err)
		}
		return fmt.Sprintf("reader length %d", e.r.Length())
	case "open-local":
		e.s.openLocal(e.w.Key())
		return e.result(nil)
	case "recv":
		var err error
		var out strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			if err = e.drain(&out, e.s.step(e.message(t, d, line))); err != nil {
				break
			}
		}
		return out.String() + e.output(err)
	case "local":
		e.s.onLocalChange(e.s.chans[1])
		return e.result(nil)
	}
	d.Fatalf(t, "unknown command %s", d.Cmd)
	return ""
}

// newCoreSession builds a session with no goroutine or stream: only its
// core, which the script drives (the books' watch functions mark channels
// dirty, but no loop takes them: "local" stands for it).
func newCoreSession(t *testing.T, d *DB, o ReplicateOptions) *Session {
	o.LocalID, o.RemoteID = []byte("local"), []byte("remote")
	o = o.withDefaults(d)
	s := &Session{
		d: d, rw: nopStream{}, o: o, out: newOutQueue(), events: make(chan func(), 1), done: make(chan struct{}),
		chans: map[uint32]*channel{}, remote: map[uint32]*channel{}, byKey: map[string]*channel{}, pending: map[[32]byte]offer{}, pendingChan: map[uint32][32]byte{},
		nextChan: 1, nextReq: 1, dirty: newDirtySet(),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	t.Cleanup(func() { s.unwatchAll(); s.fail(nil) })
	return s
}

type nopStream struct{}

func (nopStream) Read([]byte) (int, error)    { return 0, io.EOF }
func (nopStream) Write(p []byte) (int, error) { return len(p), nil }
func (nopStream) Close() error                { return nil }

// message parses one script line into what the remote sends.
func (e *coreEnv) message(t *testing.T, d *datadriven.TestData, line string) *pb.Message {
	f := strings.Fields(line)
	kv := map[string]uint64{}
	flags := map[string]string{}
	for _, a := range f[1:] {
		k, v, ok := strings.Cut(a, "=")
		if n, err := strconv.ParseUint(v, 10, 64); ok && err == nil {
			kv[k] = n
		} else {
			flags[k] = v
		}
	}
	ch := uint32(coreRemoteChan)
	switch f[0] {
	case "open":
		capa := capability(e.w.Key(), e.s.o.RemoteID, e.s.o.LocalID)
		if flags["cap"] == "bad" {
			capa = capability(e.w.Key(), []byte("someone"), e.s.o.LocalID)
		}
		return fakeOpen(e.w.Key(), ch, capa)
	case "sync":
		l := kv["len"]
		c, ok := kv["contig"]
		if !ok {
			c = l
		}
		_, follow := flags["follow"]
		return &pb.Message{Body: &pb.Message_Sync{Sync: &pb.Sync{Channel: ch, Fork: kv["fork"], Length: l, Contiguous: c, Follow: follow}}}
	case "answer":
		r := e.asked[kv["id"]]
		if r == nil {
			d.Fatalf(t, "no request %d", kv["id"])
		}
		var req book.ProofRequest
		if rr := r.GetRange(); rr != nil {
			req.Range = &book.RangeRequest{Start: rr.GetStart(), End: rr.GetEnd(), MaxBytes: e.remoteRange}
		}
		if u := r.GetUpgrade(); u != nil {
			req.Upgrade = &book.UpgradeRequest{Start: u.GetStart()}
		}
		p, err := e.w.Proof(req)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		return &pb.Message{Body: &pb.Message_Data{Data: toPBData(ch, r.GetId(), p)}}
	case "push":
		from := kv["from"]
		p, err := e.w.Proof(book.ProofRequest{Upgrade: &book.UpgradeRequest{Start: from}, Range: &book.RangeRequest{Start: from, End: e.w.Length()}})
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		return &pb.Message{Body: &pb.Message_Data{Data: toPBData(ch, pushID, p)}}
	case "nodata":
		return &pb.Message{Body: &pb.Message_NoData{NoData: &pb.NoData{Channel: ch, Id: kv["id"]}}}
	case "close":
		return &pb.Message{Body: &pb.Message_Close{Close: &pb.Close{Channel: ch}}}
	case "request":
		r := &pb.Request{Channel: ch, Id: kv["id"], Fork: kv["fork"]}
		if _, ok := kv["end"]; ok {
			r.Range = &pb.RangeRequest{Start: kv["start"], End: kv["end"]}
		}
		if u, ok := kv["upgrade"]; ok {
			r.Upgrade = &pb.UpgradeRequest{Start: u}
		}
		return &pb.Message{Body: &pb.Message_Request{Request: r}}
	}
	d.Fatalf(t, "unknown message %q", line)
	return nil
}

// drain does the shell's work after a step that returned err: it prints
// each message the core sent and each book operation it left, in order,
// and performs the operations as flush does (their results go back to the
// core, which may send more). It returns the step's error or the first
// operation's, and empties the outbox.
func (e *coreEnv) drain(b *strings.Builder, err error) error {
	for i := 0; i < len(e.s.outbox); i++ {
		m, op := e.s.outbox[i].m, e.s.outbox[i].op
		if op != nil {
			fmt.Fprintf(b, "book %s\n", e.formatOp(op))
			if err != nil {
				continue
			}
			var f []byte
			if f, err = e.s.perform(op); f == nil {
				continue
			}
			if m, _, err = newFrameReader(bytes.NewReader(f), len(f)).next(); err != nil {
				continue
			}
		}
		fmt.Fprintf(b, "send %s\n", e.format(m))
		if r := m.GetRequest(); r != nil {
			e.asked[r.GetId()] = r
		}
	}
	e.s.outbox = e.s.outbox[:0]
	return err
}

// result drains a step's output and prints it, then the channels' states.
func (e *coreEnv) result(err error) string {
	var out strings.Builder
	err = e.drain(&out, err)
	return out.String() + e.output(err)
}

// output prints the error a step (or its book operations) returned and
// each channel's state.
func (e *coreEnv) output(err error) string {
	var b strings.Builder
	if err != nil {
		// The book's key is random: name it instead.
		dk := book.DiscoveryKey(e.w.Key())
		fmt.Fprintf(&b, "error: %s\n", strings.ReplaceAll(err.Error(), fmt.Sprintf("%x", dk[:8]), "<book>"))
	}
	nums := make([]int, 0, len(e.s.chans))
	for n := range e.s.chans {
		nums = append(nums, int(n))
	}
	sort.Ints(nums)
	for _, n := range nums {
		c := e.s.chans[uint32(n)]
		contig, _ := c.b.Contiguous(0)
		fmt.Fprintf(&b, "channel %d: %s; book length %d, pages %d; remote length %d; inflight %d\n",
			n, c.state, c.b.Length(), contig, c.rLength, len(c.inflight))
	}
	return b.String()
}

// formatOp prints a book operation the core left, briefly.
func (e *coreEnv) formatOp(op *bookOp) string {
	var out string
	switch op.kind {
	case opAnswer:
		out = fmt.Sprintf("answer ch=%d id=%d", op.c.local, op.id)
	case opPush:
		out = fmt.Sprintf("push ch=%d", op.c.local)
	case opApply:
		out = fmt.Sprintf("apply ch=%d id=%d fork=%d", op.c.local, op.id, op.p.Fork)
		if u := op.p.Upgrade; u != nil {
			out += fmt.Sprintf(" head=%d..%d", u.Start, u.Length)
		}
		if r := op.p.Range; r != nil {
			out += fmt.Sprintf(" pages=[%d,%d)", r.Start, r.Start+uint64(len(r.Values)))
		}
		return out
	}
	if u := op.req.Upgrade; u != nil {
		out += fmt.Sprintf(" upgrade-from=%d", u.Start)
	}
	if r := op.req.Range; r != nil {
		out += fmt.Sprintf(" range=[%d,%d)", r.Start, r.End)
	}
	return out
}

// format prints a message the core sent, briefly.
func (e *coreEnv) format(m *pb.Message) string {
	rng := func(start uint64, n int) string { return fmt.Sprintf("[%d,%d)", start, start+uint64(n)) }
	switch b := m.Body.(type) {
	case *pb.Message_Open:
		ok := checkCapability(e.w.Key(), e.s.o.LocalID, e.s.o.RemoteID, b.Open.GetCapability())
		return fmt.Sprintf("open ch=%d capability-ok=%v", b.Open.GetChannel(), ok)
	case *pb.Message_Sync:
		s := b.Sync
		return fmt.Sprintf("sync ch=%d fork=%d len=%d contig=%d follow=%v", s.GetChannel(), s.GetFork(), s.GetLength(), s.GetContiguous(), s.GetFollow())
	case *pb.Message_Request:
		r := b.Request
		out := fmt.Sprintf("request ch=%d id=%d fork=%d", r.GetChannel(), r.GetId(), r.GetFork())
		if u := r.GetUpgrade(); u != nil {
			out += fmt.Sprintf(" upgrade-from=%d", u.GetStart())
		}
		if rr := r.GetRange(); rr != nil {
			out += fmt.Sprintf(" range=[%d,%d)", rr.GetStart(), rr.GetEnd())
		}
		return out
	case *pb.Message_Data:
		dt := b.Data
		out := fmt.Sprintf("data ch=%d id=%d fork=%d", dt.GetChannel(), dt.GetId(), dt.GetFork())
		if u := dt.GetUpgrade(); u != nil {
			out += fmt.Sprintf(" head=%d..%d", u.GetStart(), u.GetLength())
		}
		if r := dt.GetRange(); r != nil {
			out += " pages=" + rng(r.GetStart(), len(r.GetValues()))
		}
		return out
	case *pb.Message_NoData:
		return fmt.Sprintf("nodata ch=%d id=%d", b.NoData.GetChannel(), b.NoData.GetId())
	}
	return m.String()
}

// TestChannelMoves: every transition chanstate.go draws is allowed, and a
// move it does not draw panics (a bug in the session, not the remote's).
func TestChannelMoves(t *testing.T) {
	legal := map[[2]chanState]bool{
		{chOffered, chPaired}: true, {chPaired, chLive}: true, {chLive, chStalled}: true, {chStalled, chLive}: true,
	}
	all := []chanState{chOffered, chPaired, chLive, chStalled, chClosed}
	for _, from := range all {
		legal[[2]chanState{from, from}] = true
		legal[[2]chanState{from, chClosed}] = true
	}
	for _, from := range all {
		for _, to := range all {
			c := &channel{state: from}
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				c.move(to)
				return false
			}()
			if panicked == legal[[2]chanState{from, to}] {
				t.Errorf("%s → %s: panicked %v", from, to, panicked)
			}
		}
	}
}
