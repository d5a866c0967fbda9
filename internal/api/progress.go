package api

import (
	"io"
	"net/http"
	"time"
)

// BodyIdleTimeout is how long a client may send nothing of its request body, or read nothing
// of an answer being written, before the connection is cut: an upload that trickles must not
// keep a connection, an import slot and its campaign's lock for ever.
const BodyIdleTimeout = 60 * time.Second

// Progress cuts off a client that stops making progress: while it sends its request body,
// each read must get bytes within idle; while an answer is written, each write must be taken
// within idle. A long answer that takes its time to compute (an import of millions of rows,
// answered once stored) is not cut: only a stalled transfer is. Serve every route behind it.
func Progress(idle time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &progressBody{ReadCloser: r.Body, rc: rc, idle: idle}
		}
		next.ServeHTTP(&progressWriter{ResponseWriter: w, rc: rc, idle: idle}, r)
	})
}

// progressBody moves the connection's read deadline before every read of the body, and lifts
// it at the end: the server's own read after the body (to notice a client that hangs up) must
// not be cut while the handler still works.
type progressBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	done bool
}

func (b *progressBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// progressWriter moves the connection's write deadline before every write of the answer.
type progressWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (w *progressWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	return w.ResponseWriter.Write(p)
}

func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
