package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/folio-p2p/folio/api"
)

// TestAPIWrongMethod: a known path with the wrong method is 405 with an
// Allow header and a JSON error, an unknown path 404 with a JSON error.
func TestAPIWrongMethod(t *testing.T) {
	a := openAPIPeer(t, "ana")
	for _, c := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{"DELETE", "/v1/tasks", http.StatusMethodNotAllowed, "POST"},
		{"PUT", "/v1/join", http.StatusMethodNotAllowed, "POST"},
		{"POST", "/v1/id", http.StatusMethodNotAllowed, "GET"},
		{"GET", "/v1/nothing", http.StatusNotFound, ""},
		{"GET", "/nothing", http.StatusNotFound, ""},
		{"POST", "/", http.StatusMethodNotAllowed, "GET, HEAD"},
	} {
		code, body := a.call(t, c.method, c.path, "")
		if code != c.code {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.path, code, c.code, body)
			continue
		}
		var e api.Error
		if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
			t.Errorf("%s %s: body %q is not a JSON error", c.method, c.path, body)
		}
		if c.allow != "" && !strings.Contains(e.Error, c.allow) {
			t.Errorf("%s %s: error %q does not name the allowed methods", c.method, c.path, e.Error)
		}
	}
}
