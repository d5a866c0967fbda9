package metrics

import (
	"context"
	"net/http"
	"time"
)

// Unmatched is the route label of a request no route pattern matched (a 404, a probe of a
// path that does not exist): one label for all of them, whatever their paths.
const Unmatched = "unmatched"

type routeKey struct{}

// routeSlot is where the handler that knows a request's route pattern leaves it for
// Instrument: the ServeMux that matched sets Pattern on the request it was handed, and the
// middleware in between (authentication, the request log) pass copies of the request, so the
// outermost handler never sees it on its own.
type routeSlot struct {
	route string
	set   bool
}

// SetRoute tells Instrument the route pattern of the request whose context is ctx ("" when
// the innermost mux matched none). The innermost call wins: it runs last, after the mux that
// matched. Without Instrument around the request it does nothing.
func SetRoute(ctx context.Context, route string) {
	if s, ok := ctx.Value(routeKey{}).(*routeSlot); ok {
		s.route, s.set = route, true
	}
}

// Instrument observes every request next serves in breachnotice_http_request_duration_seconds,
// by route pattern and status code. The route is what a handler inside reported (SetRoute),
// else the pattern of the ServeMux next itself is, else Unmatched: never the path. On nil
// Metrics it returns next.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		slot := &routeSlot{}
		rc := r.WithContext(context.WithValue(r.Context(), routeKey{}, slot))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			route := rc.Pattern
			if slot.set {
				route = slot.route
			}
			if route == "" {
				route = Unmatched
			}
			m.observeRequest(route, rec.status, time.Since(start))
		}()
		next.ServeHTTP(rec, rc)
	})
}

// statusRecorder remembers the status a handler wrote (200 when it wrote none).
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader && code >= 200 {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines, flushing).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush passes a streaming handler's flush on (http.Flusher is asserted directly by some).
func (r *statusRecorder) Flush() {
	r.wroteHeader = true
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}
