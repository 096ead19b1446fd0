package api

// SocketName is the API socket's file name in the vault directory.
const SocketName = "api.sock"

// ID describes the running peer.
type ID struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Addrs []string `json:"addrs"`
	Dir   string   `json:"dir"`
	// HTTP is the loopback address the API (and the web app) is served
	// on, when `folio run --http` serves it: "127.0.0.1:PORT".
	HTTP string `json:"http,omitempty"`
}

// Task is a task or subtask.
type Task struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Parent  string   `json:"parent,omitempty"`
	Closed  bool     `json:"closed,omitempty"`
	Members []string `json:"members,omitempty"`
	Unread  int      `json:"unread"`
}

// NewTask creates a task.
type NewTask struct {
	Title  string `json:"title"`
	Parent string `json:"parent,omitempty"`
}

// Invite is an invite code.
type Invite struct {
	Code string `json:"code"`
	Task string `json:"task"`
}

// Join uses an invite code.
type Join struct {
	Code string `json:"code"`
}

// Send writes a message. Type is "text" (default), "reply", "edit",
// "delete" or "reaction"; Ref is the message replied to, edited, deleted
// or reacted to ("<author>/<index>"). IdempotencyKey (or the
// Idempotency-Key header), 1 to 256 bytes of printable ASCII, makes a
// retry safe: while the key is among the peer's latest 1000 messages of
// the task, sending it again answers 200 with the message already
// written (201 is a new one) and writes nothing; the same key with a
// different message is 422. It holds across daemon restarts.
type Send struct {
	Type           string `json:"type,omitempty"`
	Text           string `json:"text,omitempty"`
	Ref            string `json:"ref,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Message is one timeline entry.
type Message struct {
	ID         string              `json:"id"` // "<author>/<index>"
	Author     string              `json:"author"`
	Name       string              `json:"name,omitempty"`
	Index      uint64              `json:"index"`
	Task       string              `json:"task"`
	Type       string              `json:"type"`
	Text       string              `json:"text,omitempty"`
	Ref        string              `json:"ref,omitempty"`
	Time       string              `json:"time,omitempty"` // RFC 3339, display only
	Clock      uint64              `json:"clock"`
	Edited     bool                `json:"edited,omitempty"`
	Deleted    bool                `json:"deleted,omitempty"`
	Reactions  map[string][]string `json:"reactions,omitempty"`
	Member     string              `json:"member,omitempty"` // join, leave: who
	MemberName string              `json:"member_name,omitempty"`
	Error      string              `json:"error,omitempty"`
}

// Lagged is the data of the SSE event "lagged" that ends a stream whose
// reader fell behind: After is where to resume (GET …/events?after=After,
// or the Last-Event-ID header), Error says what happened.
type Lagged struct {
	After string `json:"after"`
	Error string `json:"error"`
}

// Devtools runs an inspector command in the daemon.
type Devtools struct {
	Args []string `json:"args"`
}

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
}

// Member is a member of a task, as this peer knows it.
type Member struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Me     bool   `json:"me,omitempty"`     // this peer
	Online bool   `json:"online,omitempty"` // connected to this peer now
}

// Read moves a task's read marker: up to message Upto (an ID in any form
// the tools print), or to the newest message when Upto is "".
type Read struct {
	Upto string `json:"upto,omitempty"`
}

// Rename gives a task a new title.
type Rename struct {
	Title string `json:"title"`
}

// Revoke makes an invite code unusable.
type Revoke struct {
	Code string `json:"code"`
}

// Name changes this peer's name (its members see it).
type Name struct {
	Name string `json:"name"`
}

// Session trades the API token for the web app's cookie: POST /v1/session
// with the token as a Bearer credential sets it.
type Session struct {
	OK bool `json:"ok"`
}
