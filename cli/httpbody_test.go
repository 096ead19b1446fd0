package cli

import (
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/folio-p2p/folio/api"
)

// TestAPIBodyLimits: on the Unix socket and on TCP, a body that is not
// application/json is 415, one over maxBody 413 (declared or chunked),
// more after the JSON value 400; none of them changes anything.
func TestAPIBodyLimits(t *testing.T) {
	a := openAPIPeer(t, "ana")
	addr, _ := a.listenTCP(t)
	tok, err := api.ReadToken(a.dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, ep := range map[string]struct {
		endpoint
		h hdr
	}{
		"unix": {endpoint{a.hc, "http://folio"}, hdr{}},
		"tcp":  {tcpEndpoint(addr), hdr{"Authorization": "Bearer " + tok}},
	} {
		t.Run(name, func(t *testing.T) {
			ct := func(v string) hdr {
				h := maps.Clone(ep.h)
				if v != "" {
					h["Content-Type"] = v
				}
				return h
			}
			js := ct("application/json")
			_, _, before := ep.do(t, "GET", "/v1/tasks", "", ep.h)
			task := `{"title":"x"}`
			for _, v := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "application/json; charset=latin1", "application/json;;"} {
				ep.refused(t, 415, "POST", "/v1/tasks", task, ct(v))
			}
			ep.refused(t, 415, "POST", "/v1/tasks/nope/invite", "", ct("text/plain"))
			big := `{"title":"` + strings.Repeat("x", maxBody) + `"}`
			ep.refused(t, 413, "POST", "/v1/tasks", big, js)
			ep.refusedReader(t, 413, "POST", "/v1/tasks", chunked(big), js)
			ep.refusedReader(t, 413, "POST", "/v1/tasks", chunked(task+strings.Repeat(" ", maxBody)), js)
			for _, body := range []string{task + task, task + " x", task + "]", task + "}", task + `"`, task + "\n{"} {
				ep.refused(t, 400, "POST", "/v1/tasks", body, js)
			}
			ep.refused(t, 400, "POST", "/v1/join", `{"code":"x"} {`, js)
			ep.refused(t, 400, "POST", "/v1/devtools", `{"args":[]}x`, js)
			if code, _, after := ep.do(t, "GET", "/v1/tasks", "", ep.h); code != 200 || string(after) != string(before) {
				t.Fatalf("tasks after refused bodies: %d %s, want %s", code, after, before)
			}
			// What passes: JSON with a charset, white space after it.
			for _, v := range []string{"application/json", "application/json; charset=UTF-8", "Application/JSON"} {
				if code, _, b := ep.do(t, "POST", "/v1/tasks", `{"title":"`+name+`"}`+" \r\n\t", ct(v)); code != 201 {
					t.Errorf("Content-Type %q: %d %s, want 201", v, code, b)
				}
			}
		})
	}
}

// chunked hides s's length, so that the client sends it chunked.
func chunked(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }
