package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// Pace is what Progress asks of a client while its request body arrives and while it takes
// its answer.
type Pace struct {
	// Idle is the longest a client may send nothing of its body, or take nothing of an answer.
	Idle time.Duration
	// MinRate (bytes per second; 0: none) is the least average rate of a request body,
	// counted over the time the server waited on the client — not over the time it spent
	// importing or computing — once Grace has been spent waiting. An upload that sends a byte
	// every minute never trips Idle, yet holds its connection, one of the few import slots
	// and its campaign's lock for ever: this is Apache's mod_reqtimeout MinRate, the usual
	// cure. Answers are held to Idle only: a download's pace is the reader's network, and
	// what the kernel buffers says nothing of it.
	MinRate int64
	Grace   time.Duration
}

// DefaultPace cuts off a client after a minute without progress, or once it has averaged
// under 32 KiB/s (a 100 MB list in under an hour) past its first minute of waiting.
var DefaultPace = Pace{Idle: 60 * time.Second, MinRate: 32 << 10, Grace: 60 * time.Second}

// ErrTooSlow is the error a transfer cut off for its rate wraps (with os.ErrDeadlineExceeded).
var ErrTooSlow = errors.New("the client transferred too slowly")

// Progress cuts off a client that stops making progress, or uploads too slowly (see Pace): a
// long answer that takes its time to compute (an import of millions of rows, answered once
// stored) is not cut, only a slow transfer is. Serve every route behind it.
//
// A body the handler leaves unread is read to its end for a second at most (unreadDrain),
// then not waited for: its answer goes out with Connection: close. net/http otherwise reads
// what is left of a small body before answering, with no deadline: a client that announced a
// body and sent none held its connection, unanswered, for ever (a review: 21,000 of them, on a
// 404, took every file descriptor of the server). Until the handler reads the body, its bytes
// are due within Idle all the same. A body that is there (a {} to a route that takes none) keeps
// its connection alive, as before.
func Progress(p Pace, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		var body *progressBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &progressBody{ReadCloser: r.Body, rc: rc, meter: meter{pace: p, what: "request body"}}
			r.Body = body
			_ = rc.SetReadDeadline(time.Now().Add(p.Idle))
		}
		next.ServeHTTP(&progressWriter{ResponseWriter: w, rc: rc, body: body, meter: meter{pace: Pace{Idle: p.Idle}, what: "answer"}}, r)
		if body != nil && !body.drain() {
			// Answered without reading it all: what net/http would read of it now is not waited for.
			w.Header().Set("Connection", "close")
			_ = rc.SetReadDeadline(time.Now())
		}
	})
}

// meter counts one direction of a transfer: the bytes moved and the time spent waiting on the
// client for them.
type meter struct {
	pace   Pace
	what   string
	n      int64
	waited time.Duration
}

// deadline is when the transfer about to wait must have moved something: Idle from now, or
// sooner when what has moved so far is already behind MinRate. rate says it is the latter.
func (m *meter) deadline(now time.Time) (dl time.Time, rate bool) {
	dl = now.Add(m.pace.Idle)
	if m.pace.MinRate <= 0 {
		return dl, false
	}
	allowed := m.pace.Grace + time.Duration(float64(m.n)/float64(m.pace.MinRate)*float64(time.Second))
	if left := allowed - m.waited; left < m.pace.Idle {
		return now.Add(max(left, 0)), true
	}
	return dl, false
}

// done records a wait that moved n bytes, and names a cut-off for its rate.
func (m *meter) done(start time.Time, n int, rate bool, err error) error {
	m.n += int64(n)
	m.waited += time.Since(start)
	if rate && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: the %s came at %d KiB/s on average (%d bytes in %s of waiting), under the %d KiB/s this server asks for (UPLOAD_MIN_RATE): %w",
			ErrTooSlow, m.what, int64(float64(m.n)/max(m.waited.Seconds(), 1e-3))>>10, m.n, m.waited.Round(time.Second), m.pace.MinRate>>10, err)
	}
	return err
}

// progressBody moves the connection's read deadline before every read of the body, and lifts
// it at the end: the server's own read after the body (to notice a client that hangs up) must
// not be cut while the handler still works.
type progressBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	meter meter
	// done: read to its end; drained: drain was tried.
	done, drained bool
}

// unreadDrain bounds what is read of a body its handler left unread, in bytes and in time.
const (
	unreadDrain     = 256 << 10
	unreadDrainTime = time.Second
)

// drain reads what the handler left of the body, within unreadDrain, and reports whether it
// came to its end.
func (b *progressBody) drain() bool {
	if b.done || b.drained {
		return b.done
	}
	b.drained = true // once: a body that did not come within the second is not waited for again
	_ = b.rc.SetReadDeadline(time.Now().Add(unreadDrainTime))
	n, err := io.CopyN(io.Discard, b.ReadCloser, unreadDrain+1)
	if err == io.EOF && n <= unreadDrain {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return b.done
}

func (b *progressBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	start := time.Now()
	dl, rate := b.meter.deadline(start)
	_ = b.rc.SetReadDeadline(dl)
	n, err := b.ReadCloser.Read(p)
	err = b.meter.done(start, n, rate, err)
	if err == io.EOF {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// progressWriter moves the connection's write deadline before every write of the answer, and
// closes the connection after an answer given before the request's body was read to its end.
type progressWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	body    *progressBody // nil without a body
	meter   meter
	written bool
}

func (w *progressWriter) WriteHeader(code int) {
	if !w.written && code >= 200 { // not an informational answer (100 Continue)
		w.written = true
		if w.body != nil && !w.body.drain() {
			w.Header().Set("Connection", "close")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *progressWriter) Write(p []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	start := time.Now()
	dl, rate := w.meter.deadline(start)
	_ = w.rc.SetWriteDeadline(dl)
	n, err := w.ResponseWriter.Write(p)
	return n, w.meter.done(start, n, rate, err)
}

func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
