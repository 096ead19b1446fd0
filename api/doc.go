// Package api is the local API of a running folio peer (`folio run`): the
// wire types and a client. The server lives with the commands (package
// cli); devtools and the commands use the client.
//
// The API is HTTP/1.1 with JSON bodies, served on a Unix socket in the
// vault directory (SocketName, mode 0600, so only the owner can talk to
// the peer) and optionally on a loopback TCP address (`folio run --http
// 127.0.0.1:PORT`; no other address is accepted). Errors are 4xx or 5xx
// with {"error": "..."}.
//
// Who may talk to it. On the socket, whoever can open it: the owner. On
// TCP, anyone on the machine can connect, and the owner's browser may be
// made to by any page it visits, so every request is checked, in order:
//
//   - Host must name the listener (127.0.0.1:PORT, [::1]:PORT or
//     localhost:PORT), else 421: a DNS-rebinding page sends its own name;
//   - a foreign Origin, or Sec-Fetch-Site other than same-origin or none,
//     is 403: a page on another site (absent headers are fine: tools
//     other than browsers send neither);
//   - the credential: "Authorization: Bearer <token>", the token being
//     the 64 hex digits of the vault's TokenName file (mode 0600, made
//     by the first `folio run --http`; NewHTTP sends it), else 401 with
//     WWW-Authenticate: Bearer.
//
// Then on both: 404 or 405 for an unknown route or method, 415 for a
// body that is not Content-Type application/json (a browser sends JSON
// cross-origin only after a preflight this API never grants), 413 for
// one over 1 MiB, 400 for bad JSON or anything after the JSON value.
// Slow clients are cut off (10 s for the headers, 90 s to send a request
// or read an answer); streams stay open as long as the client reads.
//
// Live streams are Server-Sent Events: a
// ": ready" comment once the subscription is live (nothing sent after it
// is missed), then one "message" event per new message, its data a
// Message in JSON. Every event has an id: the stream's position after it
// (per author, the last message ID sent: "<peer>/<index>,…", or "0").
// ?after=ID or the Last-Event-ID header resumes there: what was missed,
// from disk, then live. The daemon reads ahead at most 64 messages (256
// KiB of text) for a stream; a reader more than 1024 messages behind gets
// an event "lagged" (data: Lagged, where to resume) and the stream ends.
// Client.Follow resumes by itself.
//
// A send with an idempotency key (Send.IdempotencyKey or the
// Idempotency-Key header) that the peer already wrote answers 200 with
// that message and writes nothing (a new message is 201); the same key
// with another message is 422 (see Send).
//
//	GET  /v1/id                              → ID
//	GET  /v1/tasks                           → []Task
//	POST /v1/tasks            {title,parent} → Task
//	POST /v1/tasks/{task}/invite             → Invite
//	POST /v1/join             {code}         → Task
//	GET  /v1/tasks/{task}/messages?limit=&before=  → []Message (oldest first)
//	POST /v1/tasks/{task}/messages {type,text,ref,idempotency_key} → Message (its head)
//	GET  /v1/tasks/{task}/events?after=      → SSE of Message
//	POST /v1/devtools         {args}         → the inspector's output, streamed
//
// Tasks may be named by ID, unique ID prefix (4+ hex digits) or title.
package api
