package cli

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/folio-p2p/folio/api"
)

// ErrNotLoopback: the API is served on TCP only on a loopback address.
var ErrNotLoopback = errors.New("cli: not a loopback address")

// loopbackListen checks a TCP address for the API and returns what to
// listen on. "localhost" means 127.0.0.1, whatever a resolver would say.
func loopbackListen(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%w: %q would let others reach the API; use 127.0.0.1:PORT, [::1]:PORT or localhost:PORT", ErrNotLoopback, addr)
	}
	return net.JoinHostPort(host, port), nil
}

// guard lets through, on TCP, only what is the owner's, in this order:
// a Host naming this loopback listener (else 421: DNS rebinding), no
// foreign Origin or cross-site fetch (else 403: a web page), and the
// credential (else 401: another local user). The Unix socket needs
// none of it: its mode (0600) is its guard. Anything else (a listener
// this file does not know of) is treated as TCP.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local := r.Context().Value(http.LocalAddrContextKey)
		if _, unix := local.(*net.UnixAddr); unix {
			next.ServeHTTP(w, r)
			return
		}
		port := ""
		if a, ok := local.(*net.TCPAddr); ok {
			port = fmt.Sprint(a.Port)
		}
		switch {
		case !loopbackHost(r.Host, port):
			writeErr(w, http.StatusMisdirectedRequest, fmt.Errorf("the Host %q is not this API's: use http://127.0.0.1:%s", r.Host, port))
		case !sameOrigin(r, port):
			writeErr(w, http.StatusForbidden, fmt.Errorf("requests from other sites are refused (Origin %q, Sec-Fetch-Site %q)", r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site")))
		case isWebFile(r):
			next.ServeHTTP(w, r) // the app's files hold no data
		case !s.authorized(r):
			w.Header().Set("WWW-Authenticate", `Bearer realm="folio"`)
			writeErr(w, http.StatusUnauthorized, fmt.Errorf("missing or wrong credential: send Authorization: Bearer <the token in %s>", filepath.Join(s.dir, api.TokenName)))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// loopbackHost says whether hostport (a Host header, or an Origin's
// host) names a loopback address at port: 127.0.0.1:PORT, [::1]:PORT,
// localhost:PORT. A missing port is HTTP's default, 80.
func loopbackHost(hostport, port string) bool {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		host, p = strings.Trim(hostport, "[]"), "80"
	}
	if p != port || port == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin says whether r may come from a browser page: only from
// this API's own origin. Clients other than browsers send neither
// header.
func sameOrigin(r *http.Request, port string) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "http" || !loopbackHost(u.Host, port) {
			return false
		}
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none": // "none": the owner typed the URL
		return true
	}
	return false
}

// authorized says whether r carries the owner's credential: the vault's
// API token as a Bearer credential, or the web app's session cookie
// (webapp.go).
func (s *Server) authorized(r *http.Request) bool {
	if s.cookieOK(r) {
		return true
	}
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || s.token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(cred), []byte(s.token)) == 1
}
