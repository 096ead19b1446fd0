package cli

import (
	"net/http"
	"time"
)

// The API server's time bounds. Read and write time count from the end
// of the request's headers, and a request whose read time runs out has
// its context canceled (net/http's background read): both outlast the
// slowest answer, a join (60 s). Streams lift them (streaming).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 90 * time.Second
	writeTimeout      = 90 * time.Second
	idleTimeout       = 2 * time.Minute
)

// streaming prepares w for an answer that lasts as long as the client
// stays (SSE, devtools watch): no read deadline (it would cancel the
// request), and each write and flush gets the server's WriteTimeout
// from its own start, so a stalled client is still cut off.
func (s *Server) streaming(w http.ResponseWriter) http.ResponseWriter {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	return &deadlineWriter{ResponseWriter: w, rc: rc, d: s.srv.WriteTimeout}
}

// deadlineWriter pushes the write deadline before every write and flush.
type deadlineWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (dw *deadlineWriter) push() {
	if dw.d > 0 {
		dw.rc.SetWriteDeadline(time.Now().Add(dw.d))
	}
}

func (dw *deadlineWriter) Write(b []byte) (int, error) {
	dw.push()
	return dw.ResponseWriter.Write(b)
}

func (dw *deadlineWriter) Flush() {
	dw.push()
	dw.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (dw *deadlineWriter) Unwrap() http.ResponseWriter { return dw.ResponseWriter }
