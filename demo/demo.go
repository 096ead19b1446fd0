package demo

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/vault"
)

// DemoCommand runs `folio demo`: three peers in one process, each with its
// own vault, on real libp2p over loopback. Bob creates a task and invites
// Ana, they chat, Carol joins through Ana; then every peer's view is
// printed and checked. Exit codes: 0 all verified, 1 something did not
// verify or failed, 2 usage error.
func DemoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory for the three vaults (default: a temporary one)")
	keep := fs.Bool("keep", false, "keep the vaults' directory afterwards")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: folio demo [flags]\n\nThree peers (Bob, Ana, Carol) meet over libp2p on loopback and chat;\nprints each peer's timeline, the books each holds (verified) and latencies.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "folio demo: unexpected argument %q (see folio demo --help)\n", fs.Arg(0))
		return 2
	}
	root := *dir
	if root == "" {
		d, err := os.MkdirTemp("", "folio-demo-")
		if err != nil {
			fmt.Fprintf(stderr, "folio demo: %v\n", err)
			return 1
		}
		root = d
	}
	if !*keep {
		defer os.RemoveAll(root)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var log io.Writer = stdout
	if *asJSON {
		log = io.Discard
	}
	rep, err := runDemo(ctx, root, log)
	if err != nil {
		fmt.Fprintf(stderr, "folio demo: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printDemo(stdout, rep)
		if *keep {
			fmt.Fprintf(stdout, "\nvaults kept in %s\n", root)
		}
	}
	if !rep.OK {
		fmt.Fprintf(stderr, "folio demo: verification failed: %s\n", strings.Join(rep.Problems, "; "))
		return 1
	}
	return 0
}

// DemoReport is what the demo saw.
type DemoReport struct {
	OK        bool              `json:"ok"`
	Problems  []string          `json:"problems,omitempty"`
	Task      string            `json:"task"`
	Peers     []DemoPeer        `json:"peers"`
	Latencies map[string]string `json:"latencies"`
}

// DemoPeer is one peer's view.
type DemoPeer struct {
	Name     string     `json:"name"`
	ID       string     `json:"id"`
	Timeline []string   `json:"timeline"`
	Books    []DemoBook `json:"books"`
}

// DemoBook is one book a peer holds.
type DemoBook struct {
	Title    string `json:"title"`
	Length   uint64 `json:"length"`
	Writable bool   `json:"writable"`
	Verified bool   `json:"verified"`
}

type demoPeer struct {
	name string
	p    *peer.Peer
}

func runDemo(ctx context.Context, root string, log io.Writer) (*DemoReport, error) {
	open := func(name string) (*demoPeer, error) {
		p, err := peer.Open(ctx, filepath.Join(root, strings.ToLower(name)), &peer.Options{
			Vault: &vault.Options{Name: name, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, DisableDHT: true, DisableMDNS: true},
			Retry: 200 * time.Millisecond,
		})
		if err != nil {
			return nil, fmt.Errorf("open %s's vault: %w", name, err)
		}
		fmt.Fprintf(log, "%-5s is peer %s\n", name, p.ID())
		return &demoPeer{name: name, p: p}, nil
	}
	var peers []*demoPeer
	defer func() {
		for _, d := range peers {
			d.p.Close()
		}
	}()
	for _, n := range []string{"Bob", "Ana", "Carol"} {
		d, err := open(n)
		if err != nil {
			return nil, err
		}
		peers = append(peers, d)
	}
	bob, ana, carol := peers[0], peers[1], peers[2]
	names := map[libp2ppeer.ID]string{}
	for _, d := range peers {
		names[d.p.ID()] = d.name
	}
	lat := map[string]string{}

	task, err := bob.p.CreateTask(ctx, "Plan the trip", peer.TaskID{})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "Bob   creates task %s \"Plan the trip\"\n", task)
	code, err := bob.p.Invite(ctx, task)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "Bob   invites Ana: %s…\n", code[:min(40, len(code))])
	t0 := time.Now()
	if _, err := ana.p.Join(ctx, code); err != nil {
		return nil, fmt.Errorf("Ana joins: %w", err)
	}
	lat["ana joins bob"] = time.Since(t0).Round(time.Microsecond).String()
	fmt.Fprintf(log, "Ana   joins in %v\n", time.Since(t0).Round(time.Millisecond))

	var samples []time.Duration
	say := func(from, to *demoPeer, text string) error {
		sub, err := to.p.Subscribe(task)
		if err != nil {
			return err
		}
		defer sub.Close()
		start := time.Now()
		h, err := from.p.Send(ctx, task, text)
		if err != nil {
			return err
		}
		for {
			select {
			case m := <-sub.C:
				if m.Head.Author == h.Author && m.Head.Index == h.Index {
					samples = append(samples, time.Since(start))
					fmt.Fprintf(log, "%-5s says %q (delivered to %s in %v)\n", from.name, text, to.name, time.Since(start).Round(time.Microsecond))
					return nil
				}
			case <-ctx.Done():
				for _, d := range peers {
					bs, _ := d.p.Books(task)
					for t, k := range bs {
						b, _ := d.p.Vault().DB().OpenKey(context.Background(), k)
						fmt.Fprintf(log, "  state: %s holds %s, %d pages\n", d.name, RenderTitle(t, names), b.Length())
					}
					fmt.Fprintf(log, "  state: %s replicates with %v\n", d.name, d.p.Vault().Sessions())
				}
				return fmt.Errorf("%s's message never reached %s: %w", from.name, to.name, ctx.Err())
			}
		}
	}
	script := []struct {
		from, to *demoPeer
		text     string
	}{
		{bob, ana, "Hi Ana! Train or car?"},
		{ana, bob, "Train. I'll look at tickets."},
		{bob, ana, "Great, I'll book the flat."},
		{ana, bob, "Let's ask Carol too."},
	}
	for _, s := range script {
		if err := say(s.from, s.to, s.text); err != nil {
			return nil, err
		}
	}
	code2, err := ana.p.Invite(ctx, task)
	if err != nil {
		return nil, err
	}
	t0 = time.Now()
	if _, err := carol.p.Join(ctx, code2); err != nil {
		return nil, fmt.Errorf("Carol joins through Ana: %w", err)
	}
	lat["carol joins ana"] = time.Since(t0).Round(time.Microsecond).String()
	fmt.Fprintf(log, "Carol joins through Ana in %v\n", time.Since(t0).Round(time.Millisecond))
	for _, s := range []struct {
		from, to *demoPeer
		text     string
	}{
		{carol, bob, "Hello both! I'm in."},
		{bob, carol, "Welcome Carol."},
		{carol, ana, "Train sounds good."},
	} {
		if err := say(s.from, s.to, s.text); err != nil {
			return nil, err
		}
	}
	if len(samples) > 0 {
		sorted := slices.Clone(samples)
		slices.Sort(sorted)
		lat["delivery p50"] = sorted[len(sorted)/2].Round(time.Microsecond).String()
		lat["delivery max"] = sorted[len(sorted)-1].Round(time.Microsecond).String()
	}

	// Wait until every peer sees the same conversation: 2 joins, the task,
	// 7 messages.
	rep := &DemoReport{OK: true, Task: task.String(), Latencies: lat}
	t0 = time.Now()
	var views [][]string
	for {
		views = views[:0]
		for _, d := range peers {
			ms, err := d.p.Timeline(ctx, task, &peer.TimelineOptions{Limit: 100})
			if err != nil {
				return nil, err
			}
			views = append(views, RenderTimeline(ms, names))
		}
		if len(views[0]) >= 10 && slices.Equal(views[0], views[1]) && slices.Equal(views[0], views[2]) {
			break
		}
		if ctx.Err() != nil {
			rep.OK = false
			rep.Problems = append(rep.Problems, "the three timelines did not converge")
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	lat["all timelines equal after"] = time.Since(t0).Round(time.Microsecond).String()
	for i, d := range peers {
		dp := DemoPeer{Name: d.name, ID: d.p.ID().String(), Timeline: views[i]}
		books, err := d.p.Books(task)
		if err != nil {
			return nil, err
		}
		titles := make([]string, 0, len(books))
		for t := range books {
			titles = append(titles, t)
		}
		sort.Strings(titles)
		for _, t := range titles {
			b, err := d.p.Vault().DB().OpenKey(ctx, books[t])
			if err != nil {
				return nil, err
			}
			ar, err := b.Audit(ctx)
			ok := err == nil && ar.OK()
			if !ok {
				rep.OK = false
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s's book %s did not verify", d.name, t))
			}
			dp.Books = append(dp.Books, DemoBook{Title: RenderTitle(t, names), Length: b.Length(), Writable: b.Writable(), Verified: ok})
		}
		sort.Slice(dp.Books, func(i, j int) bool { return dp.Books[i].Title < dp.Books[j].Title })
		if len(books) != 2*(len(peers)-1) {
			rep.OK = false
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s holds %d books of the task, want %d", d.name, len(books), 2*(len(peers)-1)))
		}
		rep.Peers = append(rep.Peers, dp)
	}
	return rep, nil
}

// RenderTimeline shows a timeline one line a message, authors by name.
func RenderTimeline(ms []*peer.Message, names map[libp2ppeer.ID]string) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		who := names[m.Head.Author]
		switch {
		case m.Err != nil:
			out = append(out, fmt.Sprintf("%s #%d: (unreadable: %v)", who, m.Head.Index, m.Err))
		case m.Update != nil:
			out = append(out, fmt.Sprintf("%s created the task %q", who, m.Update.Title))
		case m.Member != "":
			out = append(out, fmt.Sprintf("%s added %s", who, names[m.Member]))
		default:
			out = append(out, fmt.Sprintf("%s: %s", who, m.Text))
		}
	}
	return out
}

// RenderTitle shows a pair book's title (package peer's format) with
// names: "Bob→Ana (task 7a5c0102…)"; any other title as it is.
func RenderTitle(t string, names map[libp2ppeer.ID]string) string {
	b, ok := peer.ParseBookName(t)
	if !ok {
		return t
	}
	name := func(id libp2ppeer.ID) string {
		if n := names[id]; n != "" {
			return n
		}
		return id.String()
	}
	return fmt.Sprintf("%s→%s (task %s…)", name(b.Author), name(b.Reader), b.Task.String()[:8])
}

func printDemo(w io.Writer, rep *DemoReport) {
	for _, p := range rep.Peers {
		fmt.Fprintf(w, "\n== the conversation as %s sees it\n", p.Name)
		for _, l := range p.Timeline {
			fmt.Fprintf(w, "  %s\n", l)
		}
		fmt.Fprintf(w, "   books %s holds:\n", p.Name)
		for _, b := range p.Books {
			mode := "read-only"
			if b.Writable {
				mode = "writable"
			}
			v := "verified"
			if !b.Verified {
				v = "FAILED VERIFICATION"
			}
			fmt.Fprintf(w, "     %-32s %3d pages  %-9s %s\n", b.Title, b.Length, mode, v)
		}
	}
	fmt.Fprintf(w, "\nlatencies:\n")
	keys := make([]string, 0, len(rep.Latencies))
	for k := range rep.Latencies {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-26s %s\n", k, rep.Latencies[k])
	}
	if rep.OK {
		fmt.Fprintf(w, "\nall timelines equal, every book verified\n")
	}
}
