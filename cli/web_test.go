package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/folio-p2p/folio/api"
)

// chromium is the path of Debian's chromium (.ci/install installs it):
// without it the browser tests skip, or fail under FOLIO_CI=1.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FOLIO_CI") == "1" {
		t.Fatal("chromium is not installed (.ci/install installs it)")
	}
	t.Skip("chromium is not installed: skipping the web app's browser tests (FOLIO_CI=1 makes this a failure)")
	return ""
}

// browser is one headless chromium with a profile of its own (its own
// cookies); cleanup ends it. A JavaScript dialog (alert: injected
// script ran) fails the test.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	// The profile is removed after chromium has ended (cleanups run last
	// first), not by t.TempDir, which fails while its files are in use.
	profile, err := os.MkdirTemp("", "folio-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeProfile(t, profile) })
	// Chromium's own temporary files (its singleton socket's directory,
	// left behind when it is killed) go inside the profile too.
	tmp := filepath.Join(profile, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(profile),
		chromedp.Env("TMPDIR="+tmp),
		chromedp.WindowSize(width, height),
		chromedp.NoSandbox, // tests may run as root, where chromium's sandbox refuses to start
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	chromedp.ListenTarget(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			t.Errorf("the page opened a dialog %q: a peer's text ran as script", d.Message)
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// removeProfile removes a browser's profile. Chromium's helper processes
// may still write into it for a moment after the browser ended, so the
// removal is tried again until the directory is gone (at most 5 s).
func removeProfile(t *testing.T, dir string) {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := os.RemoveAll(dir)
		if _, statErr := os.Stat(dir); err == nil && errors.Is(statErr, fs.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Logf("browser profile %s not removed: %v", dir, err)
			return
		}
	}
}

// run runs browser actions, failing the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// msgX is the XPath of the message item whose text is text.
func msgX(text string) string {
	return fmt.Sprintf(`//li[contains(@class,"msg")][.//div[@class="text" and text()=%q]]`, text)
}

// taskX is the XPath of the task list's button for title.
func taskX(title string) string {
	return fmt.Sprintf(`//ul[@id="tasks"]/li[.//span[@class="title" and text()=%q]]/button`, title)
}

// clickTask clicks the task list's button for title. The page redraws the
// list when any task changes (a new unread count), and a redraw between
// chromedp's query and its click leaves the click on a node that is gone
// ("Could not find node with given id"); a person's click cannot fall in
// that gap, so the click is made again on the new node (at most 3 times).
func clickTask(title string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		for range 3 {
			if err = chromedp.Click(taskX(title), chromedp.BySearch).Do(ctx); err == nil ||
				!strings.Contains(err.Error(), "Could not find node") {
				return err
			}
		}
		return err
	})
}

func printedURL(t *testing.T, dir string) string {
	t.Helper()
	u := strings.TrimSpace(mustFolio(t, "open", "--print-url", "--dir", dir))
	if !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.Contains(u, "/#token=") {
		t.Fatalf("folio open --print-url printed %q", u)
	}
	return u
}

// TestWebApp: two daemons, two browsers, a conversation both ways
// through the web app: a reply quoting its message, an edit in place, a
// reaction, unread counts that go down once read, and a peer's HTML shown
// as text.
func TestWebApp(t *testing.T) {
	chromium(t)
	p := startPair(t, "--http", "127.0.0.1:0")
	ana, bob := browser(t, 1100, 800), browser(t, 1100, 800)
	run(t, ana, "ana signs in", chromedp.Navigate(printedURL(t, p.dirA)), chromedp.WaitVisible(taskX("trip"), chromedp.BySearch))
	run(t, bob, "bob signs in", chromedp.Navigate(printedURL(t, p.dirB)), chromedp.WaitVisible(taskX("trip"), chromedp.BySearch))
	var loc string
	run(t, ana, "the address bar", chromedp.Location(&loc))
	if strings.Contains(loc, "token") {
		t.Errorf("the token stayed in the address bar: %s", loc)
	}
	run(t, ana, "ana opens trip", clickTask("trip"), chromedp.WaitVisible(`#text`))
	run(t, bob, "bob opens trip", clickTask("trip"), chromedp.WaitVisible(`#text`))

	run(t, ana, "ana sends", chromedp.SendKeys(`#text`, "hello from ana"+kb.Enter))
	run(t, bob, "bob sees it live", chromedp.WaitVisible(msgX("hello from ana"), chromedp.BySearch))

	run(t, bob, "bob replies",
		chromedp.Click(msgX("hello from ana")+`//button[text()="Reply"]`, chromedp.BySearch),
		chromedp.SendKeys(`#text`, "hi ana"+kb.Enter))
	var quote string
	run(t, ana, "ana sees the reply with its quote",
		chromedp.WaitVisible(msgX("hi ana"), chromedp.BySearch),
		chromedp.Text(msgX("hi ana")+`//blockquote`, &quote, chromedp.BySearch))
	if quote != "↪ ana: hello from ana" {
		t.Errorf("the reply quotes %q, want ↪ ana: hello from ana", quote)
	}

	run(t, ana, "ana edits her message",
		chromedp.Click(msgX("hello from ana")+`//button[text()="Edit"]`, chromedp.BySearch),
		chromedp.SetValue(`#text`, "hello, edited"),
		chromedp.SendKeys(`#text`, kb.Enter))
	run(t, bob, "bob sees the edit in place",
		chromedp.WaitVisible(msgX("hello, edited")+`//span[@class="edited"]`, chromedp.BySearch))
	var gone []string
	run(t, bob, "the old text", chromedp.Evaluate(`[...document.querySelectorAll("#messages .text")].map(e => e.textContent).filter(s => s === "hello from ana")`, &gone))
	if len(gone) != 0 {
		t.Errorf("bob still sees the text before the edit")
	}

	run(t, bob, "bob reacts", chromedp.Click(msgX("hello, edited")+`//button[@aria-label="React 👍"]`, chromedp.BySearch))
	run(t, ana, "ana sees the reaction",
		chromedp.WaitVisible(msgX("hello, edited")+`//div[@class="reactions"]/button[text()="👍 1"]`, chromedp.BySearch))

	// The XSS case: markup from a peer is text.
	const evil = `<img src=x onerror=alert(1)>`
	run(t, ana, "ana sends markup", chromedp.SendKeys(`#text`, evil+kb.Enter))
	var imgs int
	run(t, bob, "bob sees it as text",
		chromedp.WaitVisible(msgX(evil), chromedp.BySearch),
		chromedp.Evaluate(`document.querySelectorAll("#messages img").length`, &imgs))
	if imgs != 0 {
		t.Errorf("a peer's text made %d img elements", imgs)
	}

	// Unread counts: a message in another task shows in bob's list, and
	// goes once bob opens it.
	out := mustFolio(t, "task", "new", "notes", "--dir", p.dirA, "--json")
	var notes api.Task
	if err := json.Unmarshal([]byte(out), &notes); err != nil {
		t.Fatal(err)
	}
	mustFolio(t, "join", strings.TrimSpace(mustFolio(t, "invite", notes.ID, "--dir", p.dirA)), "--dir", p.dirB)
	run(t, ana, "ana opens notes and writes",
		chromedp.WaitVisible(taskX("notes"), chromedp.BySearch),
		clickTask("notes"),
		chromedp.WaitVisible(`#text`),
		chromedp.SendKeys(`#text`, "unread one"+kb.Enter),
		chromedp.WaitVisible(msgX("unread one"), chromedp.BySearch))
	unread := taskX("notes") + `/span[@class="unread"]`
	var n string
	run(t, bob, "bob's list counts it", chromedp.WaitVisible(unread, chromedp.BySearch), chromedp.Text(unread, &n, chromedp.BySearch))
	if n == "" || n == "0" {
		t.Errorf("bob's unread count for notes is %q", n)
	}
	run(t, bob, "bob reads notes",
		clickTask("notes"),
		chromedp.WaitVisible(msgX("unread one"), chromedp.BySearch),
		chromedp.WaitNotPresent(unread, chromedp.BySearch))
	waitFor(t, 10*time.Second, "bob's notes read for the CLI too", func() (bool, string) {
		out := mustFolio(t, "task", "list", "--json", "--dir", p.dirB)
		var ts []api.Task
		json.Unmarshal([]byte(out), &ts)
		for _, t := range ts {
			if t.ID == notes.ID {
				return t.Unread == 0, out
			}
		}
		return false, out
	})

	if dir := os.Getenv("FOLIO_SCREENSHOT"); dir != "" {
		var png []byte
		run(t, ana, "screenshot", clickTask("trip"),
			chromedp.WaitVisible(msgX("hi ana"), chromedp.BySearch),
			chromedp.Click(`#members-box summary`), chromedp.Sleep(time.Second),
			chromedp.CaptureScreenshot(&png))
		if err := os.WriteFile(filepath.Join(dir, "webapp.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWebLoginRefused: a browser without the credential gets the login
// page and no data; a wrong token in the URL changes nothing.
func TestWebLoginRefused(t *testing.T) {
	chromium(t)
	dir := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", dir, "--name", "ana")
	mustFolio(t, "task", "new", "secret plans", "--dir", dir)
	startDaemon(t, dir, "--http", "127.0.0.1:0")
	u := printedURL(t, dir)
	base, _, _ := strings.Cut(u, "#")
	b := browser(t, 400, 800) // a phone's width
	for _, url := range []string{base, base + "#token=" + strings.Repeat("0", 64)} {
		var status int
		var body string
		run(t, b, "open "+url,
			chromedp.Navigate(url),
			chromedp.WaitVisible(`#login`),
			chromedp.Evaluate(`fetch("/v1/tasks").then(r => r.status)`, &status, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
			chromedp.Text(`body`, &body))
		if status != 401 {
			t.Errorf("%s: GET /v1/tasks from the page answered %d, want 401", url, status)
		}
		if strings.Contains(body, "secret plans") {
			t.Errorf("%s: the login page shows a task's title", url)
		}
	}
	// With the URL folio open prints, the same browser is in.
	run(t, b, "sign in", chromedp.Navigate(u), chromedp.WaitVisible(taskX("secret plans"), chromedp.BySearch))
}
