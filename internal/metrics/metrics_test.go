package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

// A nil *Metrics is how metrics are off: every method must be safe on it.
func TestNilMetricsMeasureNothingAndPanicNot(t *testing.T) {
	var m *Metrics
	m.Notices("email", StateSent, 3)
	m.SendDuration("email", time.Second)
	m.RateLimitWait("sms", time.Second)
	m.ImportRows(1, 2, 3)
	if err := m.Register(nil); err != nil {
		t.Error(err)
	}
	if err := m.WatchPool(nil); err != nil {
		t.Error(err)
	}
	if err := m.WatchQueues(nil); err != nil {
		t.Error(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	if got := m.Instrument(h); got == nil {
		t.Error("Instrument on nil Metrics returned nil")
	}
}

// The route label is the innermost mux's pattern, reported through SetRoute by the middleware
// that knows it, even when middleware in between passes copies of the request; an unmatched
// request is "unmatched"; the path never appears.
func TestInstrument_LabelsByInnermostPatternNeverByPath(t *testing.T) {
	m := New("email", "sms")
	inner := http.NewServeMux()
	inner.HandleFunc("GET /api/v1/campaigns/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	// Like api.LogRequests around a mux: a copy of the request goes in, the pattern comes out.
	reporting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := r.WithContext(r.Context())
		inner.ServeHTTP(w, rc)
		SetRoute(r.Context(), rc.Pattern)
	})
	outer := http.NewServeMux()
	outer.Handle("/api/v1/", reporting)
	outer.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "css") })
	h := m.Instrument(outer)
	for _, path := range []string{"/api/v1/campaigns/6b0c1e2a-0000-4000-8000-000000000001", "/api/v1/nothing/here-secret",
		"/static/site.css"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	out := scrape(t, m)
	for _, want := range []string{
		`breachnotice_http_request_duration_seconds_count{code="418",route="GET /api/v1/campaigns/{id}"} 1`,
		`breachnotice_http_request_duration_seconds_count{code="404",route="unmatched"} 1`,
		`breachnotice_http_request_duration_seconds_count{code="200",route="GET /static/"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	for _, path := range []string{"6b0c1e2a", "here-secret", "site.css"} {
		if strings.Contains(out, path) {
			t.Errorf("scrape contains the path part %q", path)
		}
	}
}

// Counters start at zero for every channel and state, so that a dashboard's rate() has a
// series before the first notice; and they add what they are given.
func TestNew_NoticeSeriesStartAtZeroAndCount(t *testing.T) {
	m := New("email", "sms")
	m.Notices("sms", StateDelivered, 2)
	m.Notices("sms", StateDelivered, 0)
	m.ImportRows(45, 6, 1)
	out := scrape(t, m)
	for _, want := range []string{
		`breachnotice_notices_total{channel="email",state="retried"} 0`,
		`breachnotice_notices_total{channel="sms",state="delivered"} 2`,
		`breachnotice_import_rows_total{result="accepted"} 45`,
		`breachnotice_import_rows_total{result="merged"} 1`,
		"go_goroutines ", "process_cpu_seconds_total ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}
