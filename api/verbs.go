package api

import (
	"context"
	"net/url"
)

// The verbs beyond sending: reading, leaving, renaming and closing a
// task, its members, revoking an invite, changing one's name.

func taskPath(task, verb string) string { return "/v1/tasks/" + url.PathEscape(task) + verb }

// Members lists task's members with their names and whether they are
// online.
func (c *Client) Members(ctx context.Context, task string) ([]Member, error) {
	var out []Member
	return out, c.do(ctx, "GET", taskPath(task, "/members"), nil, &out)
}

// MarkRead moves task's read marker up to message upto ("" for the
// newest) and returns the task with its new unread count.
func (c *Client) MarkRead(ctx context.Context, task, upto string) (*Task, error) {
	var out Task
	return &out, c.do(ctx, "POST", taskPath(task, "/read"), Read{Upto: upto}, &out)
}

// Leave leaves task: a leave message, then this peer writes no more to it.
func (c *Client) Leave(ctx context.Context, task string) (*Task, error) {
	var out Task
	return &out, c.do(ctx, "POST", taskPath(task, "/leave"), struct{}{}, &out)
}

// Rename gives task a new title.
func (c *Client) Rename(ctx context.Context, task, title string) (*Task, error) {
	var out Task
	return &out, c.do(ctx, "POST", taskPath(task, "/rename"), Rename{Title: title}, &out)
}

// CloseTask marks task done.
func (c *Client) CloseTask(ctx context.Context, task string) (*Task, error) {
	var out Task
	return &out, c.do(ctx, "POST", taskPath(task, "/close"), struct{}{}, &out)
}

// Revoke makes an invite code of this peer unusable.
func (c *Client) Revoke(ctx context.Context, code string) error {
	return c.do(ctx, "POST", "/v1/revoke", Revoke{Code: code}, nil)
}

// SetName changes this peer's name.
func (c *Client) SetName(ctx context.Context, name string) (*ID, error) {
	var out ID
	return &out, c.do(ctx, "POST", "/v1/name", Name{Name: name}, &out)
}
