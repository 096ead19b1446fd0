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
//     by the first `folio run --http`; NewHTTP sends it), or the web
//     app's session cookie (below), else 401 with WWW-Authenticate:
//     Bearer.
//
// The web app. On TCP, GET /, /app.js and /app.css serve a web app
// (embedded in the binary; nothing is fetched elsewhere). These files
// hold no data and need no credential; everything else does. `folio
// open` opens http://127.0.0.1:PORT/#token=<token> (--print-url prints
// it): the fragment never reaches a server or a log; the app sends it
// once as a Bearer credential to POST /v1/session, which sets the cookie
// folio_session (HttpOnly, SameSite=Strict, Path=/; its value is an HMAC
// of the token, so a new token ends every session), then drops the
// fragment from the address bar and history. DELETE /v1/session signs
// out. The app puts every text a peer wrote on the page as text, never
// as HTML, under a Content-Security-Policy that allows its own script
// only.
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
//	GET  /v1/id                              → ID (HTTP: where the web app is served)
//	POST /v1/name             {name}         → ID (members see the new name)
//	GET  /v1/tasks                           → []Task (with unread counts)
//	POST /v1/tasks            {title,parent} → Task
//	POST /v1/tasks/{task}/invite             → Invite
//	POST /v1/revoke           {code}         → {} (the code is refused from now on)
//	POST /v1/join             {code}         → Task (409: already a member)
//	GET  /v1/tasks/{task}/members            → []Member (names, online)
//	POST /v1/tasks/{task}/read   {upto}      → Task (read up to a message; no body: all)
//	POST /v1/tasks/{task}/rename {title}     → Task
//	POST /v1/tasks/{task}/close              → Task
//	POST /v1/tasks/{task}/leave              → Task
//	GET  /v1/tasks/{task}/messages?limit=&before=  → []Message (oldest first)
//	POST /v1/tasks/{task}/messages {type,text,ref,idempotency_key} → Message (its head)
//	GET  /v1/tasks/{task}/events?after=      → SSE of Message
//	POST /v1/devtools         {args}         → the inspector's output, streamed
//	POST /v1/session                         → sets the web app's cookie
//
// Edits, deletes and reactions are messages (POST …/messages with type
// edit, delete or reaction and ref). Tasks may be named by ID, unique ID
// prefix (4+ hex digits) or title. A message (ref, before, upto) may be
// named in any form the tools print: "<peer>/<index>", the short
// "<last 6 characters of the peer>/<index>" of `folio log`, with or
// without its [brackets]; one that is not in the task's timeline is 404
// (a reply to it would never show anywhere). Errors are one plain line.
package api
