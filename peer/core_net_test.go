package peer

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer/pb"
)

// coreNet is several peers' cores for TestCore's messenger commands:
// the script's shell. It carries out the cores' effects the way Peer
// does, with books, journal and network replaced by memory: a log is
// one list of pages per author and task (every pair book of an author
// holds the same message at the same index), a journal is the records
// the core asked for, and an introduction is a call into the other
// core. Replication is instant: a peer reads a member's log once it
// holds that member's book (an introduction let in).
//
//	create peer=NAME task=T               a new root task, titled T
//	append peer=NAME task=T text=S        a message (type=edit|delete|react of=AUTHOR/INDEX)
//	join peer=NAME task=T inviter=NAME    NAME uses NAME's invite (code=N: invite N, checked by the gate)
//	invite peer=NAME task=T               invite N (numbered from 1 per peer)
//	revoke peer=NAME invite=N             invite N can no longer be used
//	restart peer=NAME                     a new core from the journal and the logs
//	rename peer=NAME task=T title=S       a task update: T is now titled S
//	hold peer=NAME author=NAME            NAME reads nothing of author's logs …
//	release peer=NAME author=NAME         … until released (replication late)
//	print timeline peer=NAME task=T       NAME's timeline of T
//	print members peer=NAME task=T        NAME's view of T's members
//	print title peer=NAME task=T          NAME's view of T's title
//	read peer=NAME task=T                 NAME has read T up to its newest message (MarkRead)
//	print unread peer=NAME task=T         NAME's count of unread messages in T
//
// Every command but print runs until no core has anything left to do
// (each peer reads what it holds; members not acked are introduced
// again, as the retry loop does), and prints what the cores did.
type coreNet struct {
	ids   map[string]peer.ID
	names map[peer.ID]string
	nodes map[string]*coreNode
	logs  map[TaskID]map[peer.ID][][]byte
	late  map[string]map[peer.ID]bool // per reader: authors held back (hold)
	out   strings.Builder
}

// coreNode is one peer: its core and what it persisted.
type coreNode struct {
	name    string
	id      peer.ID
	c       core
	journal []*pb.Record
	made    map[TaskID]map[peer.ID]bool // our book for a member exists
	gate    *gate                       // the real gate: invites checked as in a handshake
	secrets [][]byte                    // invite N's secret is secrets[N-1]
}

func newCoreNet() *coreNet {
	return &coreNet{ids: map[string]peer.ID{}, names: map[peer.ID]string{}, nodes: map[string]*coreNode{}, logs: map[TaskID]map[peer.ID][][]byte{}, late: map[string]map[peer.ID]bool{}}
}

// node returns the peer called name, made on first use with an ID
// derived from the name.
func (w *coreNet) node(t *testing.T, name string) *coreNode {
	if n := w.nodes[name]; n != nil {
		return n
	}
	seed := sha256.Sum256([]byte(name))
	pub, err := crypto.UnmarshalEd25519PublicKey(ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	n := &coreNode{name: name, id: id, c: newCore(id), made: map[TaskID]map[peer.ID]bool{}, gate: newGate()}
	n.gate.open(id)
	w.ids[name], w.names[id], w.nodes[name] = id, name, n
	return n
}

func (w *coreNet) name(id peer.ID) string {
	if s, ok := w.names[id]; ok {
		return s
	}
	return "?" + id.ShortString()
}

func (w *coreNet) printf(format string, args ...any) { fmt.Fprintf(&w.out, format, args...) }

// bookKey is author's pair book for reader: any 32 bytes will do here.
func bookKey(author, reader peer.ID) []byte {
	k := sha256.Sum256([]byte(string(author) + ">" + string(reader)))
	return k[:]
}

func (w *coreNet) cmd(t *testing.T, d *datadriven.TestData) string {
	w.out.Reset()
	arg := func(k string) string {
		for _, a := range d.CmdArgs {
			if a.Key == k && len(a.Vals) > 0 {
				return a.Vals[0]
			}
		}
		return ""
	}
	n := w.node(t, arg("peer"))
	task := coreTask(arg("task"))
	switch d.Cmd {
	case "create":
		n.c.rootFor(task)
		n.persist(&pb.Record{Body: &pb.Record_Task{Task: &pb.TaskUpdate{Task: task[:], Title: arg("task")}}})
		w.write(t, n, task, pb.Type_TYPE_TASK_UPDATE, mustMarshal(&pb.TaskUpdate{Task: task[:], Title: arg("task")}), nil)
	case "append":
		w.appendCmd(t, n, task, arg)
	case "join":
		w.join(t, n, task, w.node(t, arg("inviter")), arg("code"))
	case "invite":
		w.invite(t, n, task)
	case "revoke":
		w.revoke(t, n, arg("invite"))
	case "read":
		w.markRead(t, n, task)
	case "restart":
		w.restart(t, n)
	case "rename":
		w.write(t, n, task, pb.Type_TYPE_TASK_UPDATE, mustMarshal(&pb.TaskUpdate{Task: task[:], Title: arg("title")}), nil)
	case "hold", "release":
		if w.late[n.name] == nil {
			w.late[n.name] = map[peer.ID]bool{}
		}
		w.late[n.name][w.node(t, arg("author")).id] = d.Cmd == "hold"
	case "print":
		switch {
		case d.HasArg("timeline"):
			return w.timeline(n, task)
		case d.HasArg("title"):
			return w.title(n, task)
		case d.HasArg("unread"):
			return w.unread(n, task)
		}
		return w.members(n, task)
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	w.stabilize(t)
	return w.out.String()
}

func (n *coreNode) persist(rec *pb.Record) { n.journal = append(n.journal, rec) }

// appendCmd writes a text, or an edit, delete or reaction of another
// message (of=AUTHOR/INDEX).
func (w *coreNet) appendCmd(t *testing.T, n *coreNode, task TaskID, arg func(string) string) {
	typ, kind := pb.Type_TYPE_TEXT, pb.RefKind_REF_SEEN
	switch arg("type") {
	case "edit":
		typ, kind = pb.Type_TYPE_EDIT, pb.RefKind_REF_EDIT_OF
	case "delete":
		typ, kind = pb.Type_TYPE_DELETE, pb.RefKind_REF_DELETE_OF
	case "react":
		typ, kind = pb.Type_TYPE_REACTION, pb.RefKind_REF_REACT_TO
	}
	var refs []*pb.Ref
	if of := arg("of"); of != "" {
		a, i, _ := strings.Cut(of, "/")
		idx, _ := strconv.ParseUint(i, 10, 64)
		refs = []*pb.Ref{{Kind: kind, Head: &pb.Head{Author: []byte(w.node(t, a).id), Index: idx}}}
	}
	w.write(t, n, task, typ, []byte(arg("text")), refs)
}

// write is Peer.write: the core composes, the shell appends to the log.
func (w *coreNet) write(t *testing.T, n *coreNode, task TaskID, typ pb.Type, data []byte, refs []*pb.Ref) {
	if w.logs[task] == nil {
		w.logs[task] = map[peer.ID][][]byte{}
	}
	log := w.logs[task][n.id]
	if len(log) == 0 {
		log = [][]byte{nil} // page 0: the Address page, not a message
	}
	env, _, err := n.c.compose(task, uint64(len(log)), outgoing{typ: typ, data: data, refs: refs})
	if err != nil {
		w.printf("%s: write refused: %v\n", n.name, err)
		return
	}
	w.logs[task][n.id] = append(log, mustMarshal(env))
	w.printf("%s: write %s %s/%d clock=%d %v\n", n.name, coreName(task), n.name, env.Head.Index, env.Meta.Clock, env.Type)
}

// join is Peer.Join and the inviter's accept: the newcomer records the
// inviter and introduces its book with the invite's token; the gate lets
// it in (with code, invite number code is checked as a handshake checks
// it, else the check is skipped); the inviter's core takes it and
// welcomes the newcomer.
func (w *coreNet) join(t *testing.T, n *coreNode, task TaskID, inviter *coreNode, code string) {
	m, effs := n.c.joining(task, inviter.id, nil)
	w.run(t, n, effs)
	n.madeFor(task, inviter.id)
	w.printf("%s → %s: introduce for %s with the invite's token\n", n.name, inviter.name, coreName(task))
	if code != "" {
		used, err := inviter.gate.check(n.id, task, inviteToken(inviter.secret(t, code), n.id, inviter.id), nil, time.Unix(0, 0))
		if err != nil {
			w.printf("%s: refused: %v\n", inviter.name, err)
			return
		}
		inviter.persist(&pb.Record{Body: &pb.Record_InviteUsed{InviteUsed: used}})
	}
	meta := &pb.IntroMeta{Task: task[:], Members: []*pb.Join{{PeerId: []byte(n.id)}}}
	effs = inviter.c.introduced(&introduced{remote: n.id, task: task, key: bookKey(n.id, inviter.id), meta: meta, invite: true})
	m.acked = true
	w.run(t, inviter, effs)
}

// invite is Peer.Invite, with a secret derived from the peer's name and
// the invite's number.
func (w *coreNet) invite(t *testing.T, n *coreNode, task TaskID) {
	num := len(n.secrets) + 1
	s := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", n.name, num)))
	iv := &invite{id: []byte{byte(num)}, secret: s[:16], expires: 1 << 62}
	effs, err := n.c.invite(task, iv)
	if err != nil {
		w.printf("%s: invite refused: %v\n", n.name, err)
		return
	}
	n.secrets = append(n.secrets, iv.secret)
	w.printf("%s: invite %d for %s\n", n.name, num, coreName(iv.task))
	w.run(t, n, effs)
}

// revoke is Peer.RevokeInvite of invite number num.
func (w *coreNet) revoke(t *testing.T, n *coreNode, num string) {
	effs, err := n.c.revoke(n.secret(t, num))
	if err != nil {
		w.printf("%s: revoke refused: %v\n", n.name, err)
		return
	}
	w.printf("%s: revoke invite %s\n", n.name, num)
	w.run(t, n, effs)
}

// secret is invite num's secret (an unknown one for a number never made).
func (n *coreNode) secret(t *testing.T, num string) []byte {
	i, err := strconv.Atoi(num)
	if err != nil {
		t.Fatalf("invite number %q: %v", num, err)
	}
	if i < 1 || i > len(n.secrets) {
		return []byte("no such invite...")
	}
	return n.secrets[i-1]
}

func (n *coreNode) madeFor(task TaskID, id peer.ID) {
	if n.made[task] == nil {
		n.made[task] = map[peer.ID]bool{}
	}
	n.made[task][id] = true
}

// run is Peer.run: it carries out a step's effects on n.
func (w *coreNet) run(t *testing.T, n *coreNode, effs []effect) {
	for _, e := range effs {
		switch {
		case e.invite != nil:
			n.gate.addInvite(e.invite)
		case e.used != nil:
			n.gate.mark(e.used, true, false)
		case e.revoked != nil:
			n.gate.mark(e.revoked, false, true)
		case e.record != nil:
			n.persist(e.record)
			if rm, ok := e.record.Body.(*pb.Record_Member); ok {
				pid, _ := peer.IDFromBytes(rm.Member.PeerId)
				s := ""
				if len(rm.Member.Book) > 0 {
					s = " with its book"
				}
				tid, _ := taskOf(rm.Member.Task)
				w.printf("%s: journal: member %s of %s%s\n", n.name, w.name(pid), coreName(tid), s)
			}
		case e.welcome != "":
			// Peer.welcome: our book for the newcomer, a join message
			// naming it, and our introduction.
			w.printf("%s: welcome %s to %s\n", n.name, w.name(e.welcome), coreName(e.task))
			n.madeFor(e.task, e.welcome)
			w.write(t, n, e.task, pb.Type_TYPE_JOIN, mustMarshal(&pb.Join{PeerId: []byte(e.welcome), Inviter: []byte(n.id)}), nil)
			w.introduce(t, n, e.task, e.welcome)
		case e.introduce != "":
			w.introduce(t, n, e.task, e.introduce)
		case e.await != "":
			w.printf("%s: await %s's introduction for %s\n", n.name, w.name(e.await), coreName(e.task))
		case e.reopen != "":
			if n.made[e.task][e.reopen] {
				n.c.roots[e.task].members[e.reopen].restored = true
				w.printf("%s: reopen our book for %s in %s\n", n.name, w.name(e.reopen), coreName(e.task))
			}
		}
	}
}

// introduce is Peer.introduce and the other side's accept: our book for
// member id of task, with our view of the task; its gate refuses it
// unless id knows us as a member. It reports whether id took it.
func (w *coreNet) introduce(t *testing.T, n *coreNode, task TaskID, id peer.ID) bool {
	r := n.c.roots[task]
	m := r.members[id]
	if m == nil || m.acked {
		return false
	}
	n.madeFor(task, id)
	to := w.nodes[w.name(id)]
	if to == nil || to.c.roots[task] == nil || to.c.roots[task].members[n.id] == nil {
		w.printf("%s → %s: introduce for %s: refused (not a member there yet)\n", n.name, w.name(id), coreName(task))
		return false
	}
	w.printf("%s → %s: introduce for %s\n", n.name, to.name, coreName(task))
	effs := to.c.introduced(&introduced{remote: n.id, task: task, key: bookKey(n.id, id), meta: n.c.introMeta(r, nil)})
	n.c.introducing(m)
	n.c.introduceDone(m, true)
	w.run(t, to, effs)
	return true
}

// stabilize reads, at every peer, what its logs hold beyond what its
// core has read, and carries out the effects, until nothing is left;
// then it introduces again what no member acked (the retry loop, which
// visits the core's pending introductions alone: were one missing there,
// the script's output would lose its retry), and goes on if that changed
// anything.
func (w *coreNet) stabilize(t *testing.T) {
	for round := 0; round < 20; round++ {
		if w.readAll(t) {
			continue
		}
		retried := false
		for _, name := range slices.Sorted(maps.Keys(w.nodes)) {
			n := w.nodes[name]
			for _, e := range n.c.pendingIntros() {
				if n.c.retry(e.r, e.m, true) {
					w.printf("%s: retry ", n.name)
					retried = w.introduce(t, n, e.r.id, e.m.id) || retried
				}
			}
		}
		if !retried {
			return
		}
	}
	t.Fatal("the cores did not settle in 20 rounds")
}

func compareTasks(a, b TaskID) int { return strings.Compare(string(a[:]), string(b[:])) }

// readAll is one scan at every peer (Peer.scanRoot): the new pages of
// its own log and of every member log it holds, ingested and settled.
// It reports whether any page was read.
func (w *coreNet) readAll(t *testing.T) bool {
	any := false
	for _, name := range slices.Sorted(maps.Keys(w.nodes)) {
		n := w.nodes[name]
		for _, task := range slices.SortedFunc(maps.Keys(n.c.roots), compareTasks) {
			r := n.c.roots[task]
			var fresh []decoded
			for _, a := range w.held(n, r) {
				log, l := w.logs[task][a], r.log(a)
				if uint64(len(log)) <= l.next {
					continue
				}
				from := l.next
				fresh = append(fresh, ingest(r, a, log[from:])...)
				w.printf("%s: read %s %s/%d-%d\n", n.name, coreName(task), w.name(a), from, len(log)-1)
			}
			if len(fresh) > 0 {
				any = true
				w.run(t, n, n.c.settle(r, fresh))
			}
		}
	}
	return any
}

// held is the authors whose logs of r n reads: its own, and each
// member's whose book it holds, in name order.
func (w *coreNet) held(n *coreNode, r *root) []peer.ID {
	out := []peer.ID{n.id}
	for id, m := range r.members {
		if m.book != nil && !w.late[n.name][id] {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b peer.ID) int { return strings.Compare(w.name(a), w.name(b)) })
	return out
}

// restart is Peer.Open: a new core, the journal replayed, every log read
// again from its start (the next command's stabilize).
func (w *coreNet) restart(t *testing.T, n *coreNode) {
	n.c = newCore(n.id)
	n.gate = newGate()
	n.gate.open(n.id)
	w.printf("%s: replay %d journal records\n", n.name, len(n.journal))
	for _, rec := range n.journal {
		w.run(t, n, n.c.replay(rec))
	}
}

// sources is what n reads of r: Peer.sources.
func (w *coreNet) sources(n *coreNode, r *root) []source {
	var srcs []source
	for _, a := range w.held(n, r) {
		log := w.logs[r.id][a]
		srcs = append(srcs, source{author: a, length: uint64(len(log)), get: func(_ context.Context, i uint64) ([]byte, error) {
			return log[i], nil
		}})
	}
	return srcs
}

// markRead is Peer.MarkRead: the newest message of task's timeline
// becomes its read marker.
func (w *coreNet) markRead(t *testing.T, n *coreNode, task TaskID) {
	r := n.c.roots[n.c.rootOf(task)]
	if r == nil {
		w.printf("%s: no such task\n", n.name)
		return
	}
	present, back := r.checked()
	ms := merge(context.Background(), w.sources(n, r), present, back, task, 1, nil, time.Unix(0, 0))
	if len(ms) == 0 {
		return
	}
	k := ms[0].Key()
	effs, err := n.c.markRead(task, k)
	if err != nil {
		t.Fatal(err)
	}
	w.printf("%s: read %s up to %s/%d\n", n.name, coreName(task), w.name(k.Author), k.Index)
	w.run(t, n, effs)
}

// unread prints n's count of unread messages in task: Peer.Unread.
func (w *coreNet) unread(n *coreNode, task TaskID) string {
	r := n.c.roots[n.c.rootOf(task)]
	if r == nil {
		return "no such task\n"
	}
	present, back := r.checked()
	return fmt.Sprintf("unread=%d\n", unread(context.Background(), w.sources(n, r), present, back, r.read, n.id, task))
}

// timeline prints n's timeline of task as Peer.Timeline builds it.
func (w *coreNet) timeline(n *coreNode, task TaskID) string {
	r := n.c.roots[n.c.rootOf(task)]
	if r == nil {
		return "no such task\n"
	}
	present, back := r.checked()
	var b strings.Builder
	for _, m := range merge(context.Background(), w.sources(n, r), present, back, task, 100, nil, time.Unix(0, 0)) {
		r.applied.decorate(m)
		fmt.Fprintf(&b, "%s/%d clock=%d %v", w.name(m.Head.Author), m.Head.Index, m.Clock, m.Type)
		switch {
		case m.Err != nil:
			fmt.Fprintf(&b, " error: %v", m.Err)
		case m.Update != nil:
			fmt.Fprintf(&b, " %q", m.Update.Title)
		case m.Member != "":
			fmt.Fprintf(&b, " %s", w.name(m.Member))
		default:
			fmt.Fprintf(&b, " %q", m.Text)
		}
		if m.Edited {
			b.WriteString(" (edited)")
		}
		if m.Deleted {
			b.WriteString(" (deleted)")
		}
		for _, k := range slices.Sorted(maps.Keys(m.Reactions)) {
			fmt.Fprintf(&b, " %s×%d", k, len(m.Reactions[k]))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// title prints n's view of task's title.
func (w *coreNet) title(n *coreNode, task TaskID) string {
	r := n.c.roots[n.c.rootOf(task)]
	if r == nil || r.tasks[task] == nil {
		return "no such task\n"
	}
	return fmt.Sprintf("title=%s\n", r.tasks[task].Title)
}

// members prints n's view of task's members.
func (w *coreNet) members(n *coreNode, task TaskID) string {
	r := n.c.roots[task]
	if r == nil {
		return "no such task\n"
	}
	var lines []string
	for id, m := range r.members {
		s := w.name(id) + ":"
		if m.book != nil {
			s += " their book"
		}
		if m.acked {
			s += ", acked"
		}
		if m.restored {
			s += ", restored"
		}
		if r.gone[id] {
			s += ", gone"
		}
		lines = append(lines, s)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}
