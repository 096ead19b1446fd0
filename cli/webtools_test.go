package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/folio-p2p/folio/api"
)

// TestWebAppTools: the rest of the web app, at a phone's width: older
// messages on scrolling up, delete, rename, a subtask, close, invite and
// revoke, a new name, leave, and an error shown plainly.
func TestWebAppTools(t *testing.T) {
	chromium(t)
	dir := filepath.Join(t.TempDir(), "v")
	mustFolio(t, "init", "--dir", dir, "--name", "ana")
	startDaemon(t, dir, "--http", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := api.Dial(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	task, err := cl.NewTask(ctx, api.NewTask{Title: "trip"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 120; i++ {
		if _, err := cl.Send(ctx, task.ID, api.Send{Text: fmt.Sprintf("m%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	b := browser(t, 400, 800)
	run(t, b, "sign in and open trip", chromedp.Navigate(printedURL(t, dir)),
		clickTask("trip"),
		chromedp.WaitVisible(msgX("m119"), chromedp.BySearch))
	var sidebar bool
	run(t, b, "one column", chromedp.Evaluate(`getComputedStyle(document.getElementById("sidebar")).display !== "none"`, &sidebar))
	if sidebar {
		t.Errorf("at a phone's width the task list stays beside the conversation")
	}
	top := chromedp.Evaluate(`document.getElementById("messages").scrollTop = 0`, nil)
	run(t, b, "older messages on scrolling up", top,
		chromedp.WaitReady(msgX("m020"), chromedp.BySearch), chromedp.Sleep(300*time.Millisecond), top,
		chromedp.WaitReady(msgX("m000"), chromedp.BySearch),
		chromedp.WaitReady(`//li[@id="older" and text()="The beginning of this task"]`, chromedp.BySearch))

	run(t, b, "delete", chromedp.Click(msgX("m119")+`//button[text()="Delete"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//li[contains(@class,"deleted")]/div[@class="text" and text()="(deleted)"]`, chromedp.BySearch))
	run(t, b, "rename", chromedp.Click(`#rename`), chromedp.SetValue(`#rename-input`, "summer trip"),
		chromedp.Click(`#rename-form button`),
		chromedp.WaitVisible(`//h2[@id="task-title" and text()="summer trip"]`, chromedp.BySearch))
	run(t, b, "a subtask", chromedp.Click(`#back`),
		chromedp.SetValue(`#new-title`, "tickets"), chromedp.SetValue(`#new-parent`, task.ID),
		chromedp.Click(`#new-task button`),
		chromedp.WaitVisible(`//h2[@id="task-title" and text()="tickets"]`, chromedp.BySearch),
		chromedp.Click(`#back`),
		chromedp.WaitVisible(`//ul[@id="tasks"]/li[contains(@class,"sub")]//span[text()="tickets"]`, chromedp.BySearch))
	run(t, b, "close", clickTask("tickets"), chromedp.WaitVisible(`#close-task`),
		chromedp.Click(`#close-task`),
		chromedp.WaitVisible(`//h2[@id="task-title" and text()="tickets (closed)"]`, chromedp.BySearch))
	var code, said string
	run(t, b, "invite and revoke", chromedp.Click(`#invite`), chromedp.WaitVisible(`#invite-code`),
		chromedp.Text(`#invite-code`, &code), chromedp.Click(`#revoke-invite`),
		chromedp.WaitVisible(`//span[@id="invite-state" and starts-with(text(),"Revoked")]`, chromedp.BySearch),
		chromedp.Text(`#invite-state`, &said))
	if !strings.HasPrefix(code, "folio1-") {
		t.Errorf("the invite box shows %q", code)
	}
	if err := cl.Revoke(ctx, code); err != nil { // the code was this peer's and stays revoked
		t.Errorf("revoking again: %v", err)
	}
	run(t, b, "a new name", chromedp.Click(`#name-edit`), chromedp.SetValue(`#name-input`, "Ana B"),
		chromedp.Click(`#name-form button`),
		chromedp.WaitVisible(`//span[@id="me" and text()="Ana B"]`, chromedp.BySearch))
	if id, err := cl.ID(ctx); err != nil || id.Name != "Ana B" {
		t.Errorf("the peer's name is %+v (%v), want Ana B", id, err)
	}
	var e string
	run(t, b, "a subtask is not left", chromedp.Click(`#leave`),
		chromedp.WaitVisible(`//p[@id="error" and contains(text(),"leave the task itself")]`, chromedp.BySearch))
	run(t, b, "leave, then an error said plainly", chromedp.Click(`#back`),
		clickTask("summer trip"),
		chromedp.WaitVisible(`//h2[@id="task-title" and text()="summer trip"]`, chromedp.BySearch),
		chromedp.Click(`#leave`), chromedp.Sleep(500*time.Millisecond),
		chromedp.SendKeys(`#text`, "still here?"+kb.Enter),
		chromedp.WaitVisible(`//p[@id="error" and contains(text(),"left")]`, chromedp.BySearch),
		chromedp.Text(`#error`, &e))
	if strings.Contains(e, "peer:") {
		t.Errorf("the error line %q shows a package prefix", e)
	}
}
