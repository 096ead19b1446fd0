package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// bodyOK refuses a request body that is not JSON (415) or is declared
// larger than maxBody (413). A request with neither a body nor a
// Content-Type passes: most endpoints take none.
func bodyOK(w http.ResponseWriter, r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return true
	}
	mt, params, err := mime.ParseMediaType(ct)
	if cs, ok := params["charset"]; err != nil || mt != "application/json" || (ok && !strings.EqualFold(cs, "utf-8")) {
		writeErr(w, http.StatusUnsupportedMediaType, fmt.Errorf("a request body must be Content-Type: application/json, not %q", ct))
		return false
	}
	if r.ContentLength > maxBody {
		writeErr(w, http.StatusRequestEntityTooLarge, fmt.Errorf("a request body may have %d bytes at most, not %d", maxBody, r.ContentLength))
		return false
	}
	return true
}

// decode reads a JSON body into v: one value, no unknown fields, nothing
// after it but white space, maxBody bytes at most.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			return true
		} else if err == nil {
			err = errors.New("more after the JSON value")
		}
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeErr(w, http.StatusRequestEntityTooLarge, fmt.Errorf("a request body may have %d bytes at most", maxBody))
		return false
	}
	writeErr(w, http.StatusBadRequest, fmt.Errorf("bad JSON body: %v", err))
	return false
}
