package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/internal/safeterm"
)

const chatHelp = `commands:
  TEXT                 send TEXT
  /reply ID TEXT       answer the message ID (as shown in [brackets])
  /edit ID TEXT        change one of your messages
  /delete ID           delete one of your messages
  /invite              print an invite code for this task
  /tasks               list tasks
  /help                this help
  /quit                leave (Ctrl-D works too)
`

func (c *cmd) chat(ctx context.Context, args []string) error {
	c.flags("chat TASK", fNet)
	c.online = true
	b, done, err := c.open(ctx, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	task := c.arg(0)
	ch := &chatUI{c: c, ids: map[string]string{}, shown: map[string]bool{}, read: func(id string) { b.MarkRead(ctx, task, id) }}
	// Follow first, then load the history, so that nothing falls in
	// between; show() drops what both deliver.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan struct{})
	var early []api.Message
	var mu sync.Mutex
	live := false
	followErr := make(chan error, 1)
	go func() {
		followErr <- b.FollowReady(fctx, task, func() { close(ready) }, func(m api.Message) error {
			mu.Lock()
			if !live {
				early = append(early, m)
				mu.Unlock()
				return nil
			}
			mu.Unlock()
			ch.show(m)
			return nil
		})
	}()
	select {
	case <-ready:
	case err := <-followErr:
		return err
	case <-ctx.Done():
		return nil
	}
	ms, err := b.Messages(ctx, task, 20, "")
	if err != nil {
		return err
	}
	ts, _ := b.Tasks(ctx)
	for _, t := range ts {
		if t.ID == task || strings.HasPrefix(t.ID, task) || t.Title == task {
			fmt.Fprintf(c.stdout, "== %s (%s) — %d members; /help for commands\n", safeterm.Printable(t.Title), t.ID[:8], len(t.Members))
			break
		}
	}
	for _, m := range ms {
		ch.show(m)
	}
	mu.Lock()
	for _, m := range early {
		ch.show(m)
	}
	live = true
	mu.Unlock()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(c.cfg.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	ch.prompt()
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			fmt.Fprintln(c.stdout)
			return nil
		}
		line = strings.TrimSpace(line)
		if line == "" {
			ch.prompt()
			continue
		}
		if err := ch.command(ctx, b, task, line); err != nil {
			if err == errQuit {
				return nil
			}
			ch.say("! %s", oneLine(err))
		}
		ch.prompt()
	}
}

var errQuit = fmt.Errorf("quit")

// chatUI prints messages and resolves the short IDs it showed.
type chatUI struct {
	c     *cmd
	mu    sync.Mutex
	ids   map[string]string // short ID → full ID
	shown map[string]bool   // full IDs on screen: each message once
	read  func(id string)   // marks read up to a message shown
}

func (u *chatUI) show(m api.Message) {
	u.mu.Lock()
	if u.shown[m.ID] && m.Type != "unreadable" {
		u.mu.Unlock()
		return
	}
	u.shown[m.ID] = true
	u.ids[shortID(m)] = m.ID
	fmt.Fprintf(u.c.stdout, "\r%s\n> ", formatMessage(m))
	u.mu.Unlock()
	if u.read != nil && m.Type != "unreadable" {
		u.read(m.ID) // on screen is read; an error here is not the reader's concern
	}
}

// say prints one line; its string arguments (peers' text) are escaped.
func (u *chatUI) say(format string, args ...any) {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = safeterm.Printable(s)
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintf(u.c.stdout, "\r"+format+"\n", args...)
}

func (u *chatUI) prompt() {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprint(u.c.stdout, "\r> ") // \r: once, even right after show's prompt
}

// resolve turns a short ID shown in brackets (or a full one) into a full ID.
func (u *chatUI) resolve(id string) (string, error) {
	id = strings.Trim(id, "[]")
	u.mu.Lock()
	defer u.mu.Unlock()
	if full, ok := u.ids[id]; ok {
		return full, nil
	}
	for _, full := range u.ids {
		if full == id {
			return full, nil
		}
	}
	return id, nil // the peer resolves other forms, or refuses them
}

func (u *chatUI) command(ctx context.Context, b backend, task, line string) error {
	if !strings.HasPrefix(line, "/") {
		_, err := b.Send(ctx, task, api.Send{Text: line})
		return err
	}
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	idAndText := func() (string, string, error) {
		id, text, _ := strings.Cut(rest, " ")
		full, err := u.resolve(id)
		return full, strings.TrimSpace(text), err
	}
	switch word {
	case "/quit", "/q", "/exit":
		return errQuit
	case "/help":
		for _, l := range strings.Split(strings.TrimRight(chatHelp, "\n"), "\n") {
			u.say("%s", l)
		}
	case "/reply", "/edit":
		id, text, err := idAndText()
		if err != nil {
			return err
		}
		if text == "" {
			return fmt.Errorf("%s needs an ID and a text", word)
		}
		_, err = b.Send(ctx, task, api.Send{Type: strings.TrimPrefix(word, "/"), Ref: id, Text: text})
		return err
	case "/delete":
		id, _, err := idAndText()
		if err != nil {
			return err
		}
		_, err = b.Send(ctx, task, api.Send{Type: "delete", Ref: id})
		return err
	case "/invite":
		in, err := b.Invite(ctx, task)
		if err != nil {
			return err
		}
		u.say("invite code (one use): %s", in.Code)
	case "/tasks":
		ts, err := b.Tasks(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			u.say("%s  %s  (unread %d)", t.ID[:8], t.Title, t.Unread)
		}
	default:
		return fmt.Errorf("unknown command %s (/help lists them)", word)
	}
	return nil
}
