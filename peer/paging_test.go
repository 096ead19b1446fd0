package peer

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestPagingBackwards pages through a long timeline with Before and gets
// exactly the whole timeline, with an edit made long after its target
// applied on the target's page.
func TestPagingBackwards(t *testing.T) {
	ctx := context.Background()
	p := openPeer(t, t.TempDir(), "bob")
	task, err := p.CreateTask(ctx, "long", TaskID{})
	if err != nil {
		t.Fatal(err)
	}
	var heads []Head
	for i := 0; i < 300; i++ {
		h, err := p.Send(ctx, task, fmt.Sprintf("m%d", i))
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
	}
	if _, err := p.Edit(ctx, task, heads[5], "m5 edited"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Delete(ctx, task, heads[7]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.React(ctx, task, heads[9], "👍"); err != nil {
		t.Fatal(err)
	}
	all, err := p.Timeline(ctx, task, &TimelineOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 301 { // the task update and 300 messages
		t.Fatalf("%d entries, want 301", len(all))
	}
	var paged []*Message
	var before *Cursor
	for pages := 0; ; pages++ {
		ms, err := p.Timeline(ctx, task, &TimelineOptions{Limit: 50, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		paged = append(slices.Clone(ms), paged...)
		k := ms[0].Key()
		before = &k
	}
	if !slices.Equal(texts(paged), texts(all)) {
		t.Fatalf("paged timeline differs:\n%q\n%q", texts(paged), texts(all))
	}
	byText := map[int]*Message{}
	for _, m := range paged {
		for i := range heads {
			if m.Head.Author == heads[i].Author && m.Head.Index == heads[i].Index {
				byText[i] = m
			}
		}
	}
	if m := byText[5]; m == nil || m.Text != "m5 edited" || !m.Edited {
		t.Fatalf("edit not applied: %+v", m)
	}
	if m := byText[7]; m == nil || !m.Deleted {
		t.Fatalf("delete not applied: %+v", m)
	}
	if m := byText[9]; m == nil || len(m.Reactions["👍"]) != 1 {
		t.Fatalf("reaction not applied: %+v", m)
	}
}
