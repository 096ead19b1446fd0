package cli

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
)

// The web app: plain HTML, CSS and JavaScript (cli/web), embedded in the
// binary, served at / next to the API. The page holds no data: without a
// credential a browser gets the app's files, which show a login page,
// and every /v1 request of it is 401.
//
// Signing in. `folio open` opens http://127.0.0.1:PORT/#token=<token>:
// the fragment never leaves the browser (no request, log or Referer
// carries it); the app sends it once, as a Bearer credential, to POST
// /v1/session, removes it from the address bar and history, and from then
// on uses the session cookie that answer set: HttpOnly (the page's
// scripts cannot read it), SameSite=Strict (no other site's page sends
// it), Path=/. The cookie's value is derived from the token (HMAC-SHA256
// keyed with it), so a new token ends every session, and a daemon
// restart keeps them.

//go:embed web
var webFiles embed.FS

// sessionCookie is the web app's cookie name.
const sessionCookie = "folio_session"

// webCSP keeps the page to its own files: no inline script, nothing
// fetched from elsewhere, not framed by others.
const webCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// routeWeb serves the app's files and the session endpoint.
func (s *Server) routeWeb() {
	sub, _ := fs.Sub(webFiles, "web")
	files := http.FileServerFS(sub)
	for _, p := range []string{"GET /{$}", "GET /app.js", "GET /app.css"} {
		s.mux.Handle(p, webHeaders(files))
	}
	s.mux.HandleFunc("POST /v1/session", s.session)
	s.mux.HandleFunc("DELETE /v1/session", s.endSession)
}

// isWebFile says whether r asks for one of the app's files: those need
// no credential (they hold no data).
func isWebFile(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.URL.Path {
	case "/", "/app.js", "/app.css":
		return true
	}
	return false
}

func webHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", webCSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// sessionValue is the cookie's value for the API token tok.
func sessionValue(tok string) string {
	m := hmac.New(sha256.New, []byte(tok))
	m.Write([]byte("folio web session v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// session sets the cookie; the guard has checked the credential (the
// token, or a cookie already).
func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sessionValue(s.token), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, 200, struct {
		OK bool `json:"ok"`
	}{true})
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, 200, struct{}{})
}

// cookieOK says whether r carries the web app's session cookie.
func (s *Server) cookieOK(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil || s.token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(sessionValue(s.token))) == 1
}
