package peer

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/folio-p2p/folio/peer/pb"
)

// TestCore drives the messenger's deterministic core (core.go) with the
// script testdata/core, without books, network, goroutines or clocks:
//
//	new task=NAME                 a fresh root task
//	deliver author=NAME           pages of NAME's log, one a line, in order:
//	  TYPE key=value…             text | task-update | join | leave | edit | delete | react | garbage
//	                              (clock=N; task=, title=, parent=, closed; member=; of=AUTHOR/INDEX; text=)
//	print                         the root's state
//
// and, with several peers' cores, the commands of coreNet
// (core_net_test.go): create, append, join, restart, rename, hold,
// release, print timeline|members|task.
//
// deliver prints each page as the core read it and the effects it asked
// the shell for. Peer IDs and task IDs are the names themselves.
func TestCore(t *testing.T) {
	var r *root
	w := newCoreNet()
	datadriven.RunTest(t, "testdata/core", func(t *testing.T, d *datadriven.TestData) string {
		switch d.Cmd {
		case "create", "append", "join", "restart", "rename", "hold", "release", "invite", "revoke", "read":
			return w.cmd(t, d)
		case "new":
			var name string
			d.ScanArgs(t, "task", &name)
			r = newRoot(coreTask(name))
			r.tasks[r.id] = &Task{ID: r.id, Root: r.id}
			return ""
		case "deliver":
			var author string
			d.ScanArgs(t, "author", &author)
			var pages [][]byte
			for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
				pages = append(pages, corePage(t, r, peer.ID(author), uint64(len(pages)), line))
			}
			return coreStep(r, peer.ID(author), pages)
		case "print":
			if d.HasArg("peer") {
				return w.cmd(t, d)
			}
			return corePrint(r)
		}
		d.Fatalf(t, "unknown command %q", d.Cmd)
		return ""
	})
}

// coreTask is the task ID named name (its bytes, zero-padded).
func coreTask(name string) TaskID {
	var id TaskID
	copy(id[:], name)
	return id
}

func coreName(id TaskID) string { return string(bytes.TrimRight(id[:], "\x00")) }

// corePage builds the envelope a line describes, at the author's next
// index plus off.
func corePage(t *testing.T, r *root, author peer.ID, off uint64, line string) []byte {
	f := strings.Fields(line)
	args := map[string]string{}
	for _, kv := range f[1:] {
		k, v, _ := strings.Cut(kv, "=")
		args[k] = v
	}
	clock, _ := strconv.ParseUint(args["clock"], 10, 64)
	env := &pb.Envelope{Head: &pb.Head{Author: []byte(author), Index: r.log(author).next + off},
		Meta: &pb.Meta{Clock: clock, Task: r.id[:]}}
	join := func(who string) []byte {
		b, _ := proto.Marshal(&pb.Join{PeerId: []byte(who)})
		return b
	}
	if of := args["of"]; of != "" {
		a, i, _ := strings.Cut(of, "/")
		n, _ := strconv.ParseUint(i, 10, 64)
		env.Refs = []*pb.Ref{{Kind: pb.RefKind_REF_EDIT_OF, Head: &pb.Head{Author: []byte(a), Index: n}}}
	}
	switch f[0] {
	case "text":
		env.Type, env.Data = pb.Type_TYPE_TEXT, []byte(args["text"])
	case "task-update":
		u := &pb.TaskUpdate{Task: r.id[:], Title: args["title"], Closed: args["closed"] == "true"}
		if args["task"] != "" {
			id := coreTask(args["task"])
			u.Task = id[:]
		}
		if args["parent"] != "" {
			id := coreTask(args["parent"])
			u.Parent = id[:]
		}
		env.Type, env.Data = pb.Type_TYPE_TASK_UPDATE, mustMarshal(u)
	case "join":
		env.Type, env.Data = pb.Type_TYPE_JOIN, join(args["member"])
	case "leave":
		env.Type, env.Data = pb.Type_TYPE_LEAVE, join(args["member"])
	case "edit", "delete", "react":
		env.Type = map[string]pb.Type{"edit": pb.Type_TYPE_EDIT, "delete": pb.Type_TYPE_DELETE, "react": pb.Type_TYPE_REACTION}[f[0]]
		env.Refs[0].Kind = map[string]pb.RefKind{"edit": pb.RefKind_REF_EDIT_OF, "delete": pb.RefKind_REF_DELETE_OF, "react": pb.RefKind_REF_REACT_TO}[f[0]]
		env.Data = []byte(args["text"])
	case "garbage":
		return []byte{0xff, 0xff, 0xff}
	case "forged":
		env.Head.Author = []byte("mallory")
	default:
		t.Fatalf("unknown page type %q", f[0])
	}
	return mustMarshal(env)
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// coreStep runs ingest and fold and prints what they did.
func coreStep(r *root, author peer.ID, pages [][]byte) string {
	var b strings.Builder
	fresh := ingest(r, author, pages)
	for _, d := range fresh {
		fmt.Fprintf(&b, "read %s/%d clock=%d", string(d.key.Author), d.key.Index, d.key.Clock)
		if d.err != nil {
			fmt.Fprintf(&b, " error: %v", d.err)
		} else {
			fmt.Fprintf(&b, " %v", d.env.Type)
		}
		b.WriteString("\n")
	}
	for _, e := range fold(r, fresh) {
		switch {
		case e.learn != nil:
			fmt.Fprintf(&b, "effect: learn member %s\n", e.learn.PeerId)
		case e.subtask != TaskID{}:
			fmt.Fprintf(&b, "effect: route subtask %s\n", coreName(e.subtask))
		case e.fresh:
			b.WriteString("effect: offer to subscribers\n")
		}
	}
	return b.String()
}

// corePrint renders a root's state in a stable order.
func corePrint(r *root) string {
	var b strings.Builder
	fmt.Fprintf(&b, "max clock %d\n", r.maxClock)
	var authors []string
	for a := range r.logs {
		authors = append(authors, string(a))
	}
	slices.Sort(authors)
	for _, a := range authors {
		l := r.logs[peer.ID(a)]
		var back []uint64
		for i := range l.backwards {
			back = append(back, i)
		}
		slices.Sort(back)
		fmt.Fprintf(&b, "log %s: next %d, last clock %d, backwards %v\n", a, l.next, l.lastClock, back)
	}
	var tasks []string
	for id, tk := range r.tasks {
		s := fmt.Sprintf("task %s: %q", coreName(id), tk.Title)
		if tk.Parent != (TaskID{}) {
			s += " in " + coreName(tk.Parent)
		}
		if tk.Closed {
			s += " (closed)"
		}
		tasks = append(tasks, s)
	}
	slices.Sort(tasks)
	for _, s := range tasks {
		b.WriteString(s + "\n")
	}
	var gone []string
	for g := range r.gone {
		gone = append(gone, string(g))
	}
	slices.Sort(gone)
	fmt.Fprintf(&b, "gone %v\n", gone)
	var edits []string
	for k, e := range r.applied.edits {
		edits = append(edits, fmt.Sprintf("%s/%d→%q", string(k.author), k.index, e.text))
	}
	slices.Sort(edits)
	fmt.Fprintf(&b, "edits %v\n", edits)
	return b.String()
}
