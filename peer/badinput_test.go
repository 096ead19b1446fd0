package peer

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/book"
	"github.com/folio-p2p/folio/peer/pb"
)

// waitFor polls p's timeline of task until ok holds.
func waitFor(t testing.TB, p *Peer, task TaskID, what string, ok func([]*Message) bool) []*Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms := timelineAll(t, p, task)
		if ok(ms) {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never saw %s; timeline:\n%s", p.ID().ShortString(), what, strings.Join(texts(ms), "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasText(text string) func([]*Message) bool {
	return func(ms []*Message) bool {
		for _, m := range ms {
			if m.Err == nil && m.Text == text {
				return true
			}
		}
		return false
	}
}

func findText(t testing.TB, ms []*Message, text string) *Message {
	t.Helper()
	for _, m := range ms {
		if m.Err == nil && m.Text == text {
			return m
		}
	}
	t.Fatalf("no message %q in\n%s", text, strings.Join(texts(ms), "\n"))
	return nil
}

// wantRefused asserts that err is ErrInviteRefused saying why.
func wantRefused(t testing.TB, err error, why string) {
	t.Helper()
	if !errors.Is(err, ErrInviteRefused) {
		t.Fatalf("got %v, want ErrInviteRefused (%s)", err, why)
	}
	if !strings.Contains(err.Error(), why) {
		t.Fatalf("refused with %q, want it to say %q", err, why)
	}
}

func TestBadCodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bob := openPeer(t, t.TempDir(), "bob")
	carol := openPeer(t, t.TempDir(), "carol")
	task := mustCreate(t, ctx, bob, "trip")
	code, err := bob.Invite(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	// Case and surrounding blanks do not matter.
	for _, c := range []string{strings.ToUpper(code), "  " + code + "\n"} {
		if in, err := DecodeInvite(c); err != nil || peerID(string(in.Inviter)) != bob.ID() {
			t.Fatalf("DecodeInvite(%q) = %v, %v", c, in, err)
		}
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var bad []string
	// Every character mistyped (to one differing in its top bit, which
	// every base32 character carries).
	for i := len(codePrefix); i < len(code); i++ {
		j := strings.IndexByte(alphabet, code[i])
		if j < 0 {
			t.Fatalf("code %q has %q at %d", code, code[i], i)
		}
		bad = append(bad, code[:i]+string(alphabet[(j+16)%32])+code[i+1:])
	}
	for n := 1; n < len(code)-len(codePrefix); n += 7 {
		bad = append(bad, code[:len(code)-n]) // cut off
	}
	bad = append(bad, "", "   ", codePrefix, "folio2-"+code[len(codePrefix):], code[len(codePrefix):],
		code[:len(code)-1]+"1", code+"ab", "hello world")
	for _, c := range bad {
		if _, err := DecodeInvite(c); !errors.Is(err, ErrBadCode) {
			t.Errorf("DecodeInvite(%q) (len %d of %d): %v, want ErrBadCode", c, len(c), len(code), err)
		}
	}
	// A character too many is refused or ignored (Go's base32 drops a
	// dangling last character), never read as another invite.
	want, _ := DecodeInvite(code)
	for _, c := range alphabet {
		if in, err := DecodeInvite(code + string(c)); err == nil && !proto.Equal(in, want) {
			t.Errorf("DecodeInvite(code+%q) = %v, a different invite", c, in)
		} else if err != nil && !errors.Is(err, ErrBadCode) {
			t.Errorf("DecodeInvite(code+%q): %v", c, err)
		}
	}
	// Join says the same, and none of it spent the invite.
	for _, c := range []string{"", code[:len(code)-5], bad[3]} {
		if _, err := carol.Join(ctx, c); !errors.Is(err, ErrBadCode) {
			t.Errorf("Join(%q): %v, want ErrBadCode", c, err)
		}
	}
	if err := bob.RevokeInvite(ctx, "garbage"); !errors.Is(err, ErrBadCode) {
		t.Errorf("RevokeInvite(garbage): %v", err)
	}
	if _, err := bob.Join(ctx, code); !errors.Is(err, ErrInvalid) {
		t.Errorf("joining one's own invite: %v, want ErrInvalid", err)
	}
	if _, err := carol.Join(ctx, code); err != nil {
		t.Fatalf("the good code after bad ones: %v", err)
	}
}

func TestRefusedInvites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var skew atomic.Int64 // how far bob's clock runs ahead
	o := testOptions("bob")
	o.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	bob := reopen(t, t.TempDir(), o)
	ana := openPeer(t, t.TempDir(), "ana")
	carol := openPeer(t, t.TempDir(), "carol")
	task := mustCreate(t, ctx, bob, "trip")

	t.Run("wrong secret", func(t *testing.T) {
		code, err := bob.Invite(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		in, err := DecodeInvite(code)
		if err != nil {
			t.Fatal(err)
		}
		in.Secret = make([]byte, 16)
		rand.Read(in.Secret)
		forged, err := EncodeInvite(in)
		if err != nil {
			t.Fatal(err)
		}
		_, err = carol.Join(ctx, forged)
		wantRefused(t, err, "no such invite")
		// Another task with the right secret is no better.
		in, _ = DecodeInvite(code)
		other := newTaskID()
		in.Task = other[:]
		forged, _ = EncodeInvite(in)
		_, err = carol.Join(ctx, forged)
		wantRefused(t, err, "no such invite")
		// The forgeries did not spend the real invite.
		if _, err := ana.Join(ctx, code); err != nil {
			t.Fatalf("the real invite after forged ones: %v", err)
		}
		// Now it is spent.
		_, err = carol.Join(ctx, code)
		wantRefused(t, err, "already used")
	})

	t.Run("revoked", func(t *testing.T) {
		code, err := bob.Invite(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		if err := bob.RevokeInvite(ctx, code); err != nil {
			t.Fatal(err)
		}
		_, err = carol.Join(ctx, code)
		wantRefused(t, err, "revoked")
		// Another peer's revocation means nothing to bob.
		if err := ana.RevokeInvite(ctx, code); !errors.Is(err, ErrBadCode) {
			t.Fatalf("revoking someone else's invite: %v", err)
		}
	})

	t.Run("expired", func(t *testing.T) {
		code, err := bob.Invite(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		skew.Store(int64(bob.o.InviteTTL + time.Minute))
		defer skew.Store(0)
		_, err = carol.Join(ctx, code)
		wantRefused(t, err, "expired")
	})

	t.Run("still works", func(t *testing.T) {
		mustJoin(t, ctx, bob, carol, task)
	})
}

func TestNotAuthor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bob, ana, task := startPair(t, ctx)
	hb := mustSend(t, ctx, bob, task, "bob's words")
	ha := mustSend(t, ctx, ana, task, "ana's words")
	waitFor(t, ana, task, "bob's message", hasText("bob's words"))
	if _, err := ana.Edit(ctx, task, hb, "ana's words now"); !errors.Is(err, ErrNotAuthor) {
		t.Fatalf("ana edits bob's message: %v, want ErrNotAuthor", err)
	}
	if _, err := ana.Delete(ctx, task, hb); !errors.Is(err, ErrNotAuthor) {
		t.Fatalf("ana deletes bob's message: %v, want ErrNotAuthor", err)
	}
	// Her own she may edit.
	if _, err := ana.Edit(ctx, task, ha, "ana's better words"); err != nil {
		t.Fatal(err)
	}

	// A forged edit written straight into ana's book for bob, in
	// lockstep (the next index) and with a clock ahead of everything.
	ab, err := ana.Vault().DB().Book(ctx, bookName(ana.ID(), bob.ID(), task))
	if err != nil {
		t.Fatal(err)
	}
	appendEnvelope(t, ctx, ab, &pb.Envelope{
		Head: &pb.Head{Author: []byte(ana.ID()), Index: ab.Length()},
		Refs: []*pb.Ref{{Kind: pb.RefKind_REF_EDIT_OF, Head: &pb.Head{Author: []byte(bob.ID()), Index: hb.Index}}},
		Type: pb.Type_TYPE_EDIT, Data: []byte("forged by ana"),
		Meta: &pb.Meta{Time: time.Now().UnixMilli(), Clock: 1 << 20, Task: task[:]},
	})
	// And a forged delete.
	appendEnvelope(t, ctx, ab, &pb.Envelope{
		Head: &pb.Head{Author: []byte(ana.ID()), Index: ab.Length()},
		Refs: []*pb.Ref{{Kind: pb.RefKind_REF_DELETE_OF, Head: &pb.Head{Author: []byte(bob.ID()), Index: hb.Index}}},
		Type: pb.Type_TYPE_DELETE,
		Meta: &pb.Meta{Time: time.Now().UnixMilli(), Clock: 1<<20 + 1, Task: task[:]},
	})
	// Ana's watcher reads them (as Send does for its own pages) before
	// her next message takes a clock after theirs.
	ana.scan()
	mustSend(t, ctx, ana, task, "after the forgeries")
	for _, p := range []*Peer{bob, ana} {
		ms := waitFor(t, p, task, "ana's message after the forgeries", hasText("after the forgeries"))
		m := findText(t, ms, "bob's words")
		if m.Edited || m.Deleted || m.Head.Author != bob.ID() {
			t.Errorf("%s: bob's message became %+v", p.ID().ShortString(), m)
		}
		if m := findText(t, ms, "ana's better words"); !m.Edited {
			t.Errorf("%s: ana's own edit not applied: %+v", p.ID().ShortString(), m)
		}
		for _, m := range ms {
			if m.Text == "forged by ana" || m.Err != nil {
				t.Errorf("%s: %s", p.ID().ShortString(), texts([]*Message{m}))
			}
		}
		if last := ms[len(ms)-1]; last.Text != "after the forgeries" || last.Clock <= 1<<20+1 {
			t.Errorf("%s: last %s clock %d, want ana's message after the forged clocks", p.ID().ShortString(), texts([]*Message{last}), last.Clock)
		}
	}
	// Bob answers after it all, and ana sees it.
	mustSend(t, ctx, bob, task, "bob still here")
	waitFor(t, ana, task, "bob's answer", hasText("bob still here"))
}

func appendEnvelope(t testing.TB, ctx context.Context, b *book.Book, env *pb.Envelope) {
	t.Helper()
	page, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, page); err != nil {
		t.Fatal(err)
	}
}

// TestGarbagePages: pages of an author's book that are not that author's
// envelopes show in the timeline as entries with Err, where they are, and
// the author's later messages still arrive.
func TestGarbagePages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bob, ana, task := startPair(t, ctx)
	mustSend(t, ctx, ana, task, "before")
	waitFor(t, bob, task, "ana's first message", hasText("before"))
	sub, err := bob.Subscribe(task)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ab, err := ana.Vault().DB().Book(ctx, bookName(ana.ID(), bob.ID(), task))
	if err != nil {
		t.Fatal(err)
	}
	junk := ab.Length()
	if _, err := ab.Append(ctx, []byte("\xff\xfe not a protobuf \x00")); err != nil {
		t.Fatal(err)
	}
	// An envelope that claims to be bob's.
	impostor := ab.Length()
	appendEnvelope(t, ctx, ab, &pb.Envelope{
		Head: &pb.Head{Author: []byte(bob.ID()), Index: impostor},
		Type: pb.Type_TYPE_TEXT, Data: []byte("bob says (not)"),
		Meta: &pb.Meta{Time: time.Now().UnixMilli(), Clock: 1000, Task: task[:]},
	})
	// One at the wrong index.
	misplaced := ab.Length()
	appendEnvelope(t, ctx, ab, &pb.Envelope{
		Head: &pb.Head{Author: []byte(ana.ID()), Index: misplaced + 5},
		Type: pb.Type_TYPE_TEXT, Data: []byte("misplaced"),
		Meta: &pb.Meta{Time: time.Now().UnixMilli(), Clock: 1001, Task: task[:]},
	})
	// One whose clock goes backwards.
	backwards := ab.Length()
	appendEnvelope(t, ctx, ab, &pb.Envelope{
		Head: &pb.Head{Author: []byte(ana.ID()), Index: backwards},
		Type: pb.Type_TYPE_TEXT, Data: []byte("back in time"),
		Meta: &pb.Meta{Time: time.Now().UnixMilli(), Clock: 1, Task: task[:]},
	})
	mustSend(t, ctx, ana, task, "after")
	mustSend(t, ctx, bob, task, "bob after")
	for _, p := range []*Peer{bob, ana} {
		ms := waitFor(t, p, task, "both messages after the junk", func(ms []*Message) bool {
			return hasText("after")(ms) && hasText("bob after")(ms)
		})
		bad := map[uint64]error{}
		for _, m := range ms {
			if m.Err != nil {
				if m.Head.Author != ana.ID() {
					t.Errorf("%s: bad entry %s not ana's", p.ID().ShortString(), texts([]*Message{m}))
				}
				bad[m.Head.Index] = m.Err
			}
			if m.Err == nil && (m.Text == "bob says (not)" || m.Text == "misplaced" || m.Text == "back in time") {
				t.Errorf("%s: shows %s", p.ID().ShortString(), texts([]*Message{m}))
			}
		}
		if len(bad) != 4 || bad[junk] == nil || bad[impostor] == nil || bad[misplaced] == nil || bad[backwards] == nil {
			t.Errorf("%s: bad entries %v, want indexes %d, %d, %d, %d:\n%s", p.ID().ShortString(), bad, junk, impostor, misplaced, backwards, strings.Join(texts(ms), "\n"))
		}
		// The timeline goes on past them, in order.
		before, after := findText(t, ms, "before"), findText(t, ms, "after")
		if !before.Key().less(after.Key()) || after.Head.Index != backwards+1 {
			t.Errorf("%s: before %v after %v", p.ID().ShortString(), before.Key(), after.Key())
		}
	}
	// Bob's live subscription says the same.
	subBad := map[uint64]bool{}
	for done := false; !done; {
		select {
		case m := <-sub.C:
			if m.Err != nil && m.Head.Author == ana.ID() {
				subBad[m.Head.Index] = true
			}
			if m.Err == nil && (m.Text == "bob says (not)" || m.Text == "misplaced" || m.Text == "back in time") {
				t.Errorf("subscription delivered %s", texts([]*Message{m}))
			}
			done = m.Err == nil && m.Text == "after"
		case <-ctx.Done():
			t.Fatal("subscription never delivered ana's message after the junk")
		}
	}
	if len(subBad) != 4 || !subBad[junk] || !subBad[impostor] || !subBad[misplaced] || !subBad[backwards] {
		t.Errorf("subscription's bad entries %v", subBad)
	}
	if a, b := texts(timelineAll(t, ana, task)), texts(timelineAll(t, bob, task)); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("timelines differ:\n%s", diffLines(a, b))
	}
}
