package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/folio-p2p/folio/api"
	"github.com/folio-p2p/folio/peer"
	"github.com/folio-p2p/folio/peer/pb"
)

var typeNames = map[pb.Type]string{
	pb.Type_TYPE_TEXT: "text", pb.Type_TYPE_REPLY: "reply", pb.Type_TYPE_EDIT: "edit",
	pb.Type_TYPE_DELETE: "delete", pb.Type_TYPE_REACTION: "reaction", pb.Type_TYPE_JOIN: "join",
	pb.Type_TYPE_LEAVE: "leave", pb.Type_TYPE_TASK_UPDATE: "task", pb.Type_TYPE_PROFILE: "profile",
}

// toAPI converts a timeline entry; names resolves author names.
func toAPI(ctx context.Context, p *peer.Peer, m *peer.Message) api.Message {
	out := api.Message{
		ID: headID(m.Head), Author: m.Head.Author.String(), Index: m.Head.Index,
		Task: m.Task.String(), Type: typeNames[m.Type], Text: m.Text, Clock: m.Clock,
		Edited: m.Edited, Deleted: m.Deleted, Name: p.Name(ctx, m.Head.Author),
	}
	if m.Ref != nil {
		out.Ref = headID(*m.Ref)
	}
	if !m.Time.IsZero() && m.Err == nil {
		out.Time = m.Time.UTC().Format(time.RFC3339Nano)
	}
	if m.Member != "" {
		out.Member, out.MemberName = m.Member.String(), p.Name(ctx, m.Member)
	}
	if m.Update != nil {
		out.Text = m.Update.Title
	}
	if m.Err != nil {
		out.Type, out.Error = "unreadable", m.Err.Error()
	}
	for r, who := range m.Reactions {
		if out.Reactions == nil {
			out.Reactions = map[string][]string{}
		}
		for _, w := range who {
			out.Reactions[r] = append(out.Reactions[r], w.String())
		}
	}
	return out
}

func headID(h peer.Head) string { return fmt.Sprintf("%s/%d", h.Author, h.Index) }

// parseHead reads "<author>/<index>".
func parseHead(s string) (peer.Head, error) { return peer.ParseHead(s) }

func taskAPI(ctx context.Context, p *peer.Peer, t peer.Task) api.Task {
	out := api.Task{ID: t.ID.String(), Title: t.Title, Closed: t.Closed}
	if t.Parent != (peer.TaskID{}) {
		out.Parent = t.Parent.String()
	}
	for _, m := range t.Members {
		out.Members = append(out.Members, m.String())
	}
	out.Unread, _ = p.Unread(ctx, t.ID)
	return out
}
