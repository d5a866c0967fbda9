package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/logtest"
)

// TestLogRequests_AFloodIsCountedNotWrittenLineByLine: a client sending requests by the
// thousand does not write a line each — a review saw gigabytes of log an hour — but the lines
// not written are counted, and the count said with the next line.
func TestLogRequests_AFloodIsCountedNotWrittenLineByLine(t *testing.T) {
	var buf logtest.Buffer
	h := api.LogRequests(slog.New(slog.NewTextHandler(&buf, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.NotFound(w, r)
	}))
	for range 1000 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope", nil))
	}
	if n := strings.Count(buf.String(), "msg=\"http request\""); n < 100 || n > 300 {
		t.Errorf("%d request lines for 1000 requests at once, want about 100", n)
	}
	// In the flood, a refused credential is logged all the same: it is what token guessing leaves.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/campaigns", nil))
	if !strings.Contains(buf.String(), "method=POST") || !strings.Contains(buf.String(), "status=401") {
		t.Errorf("the refused POST during the flood was not logged")
	}
	time.Sleep(1100 * time.Millisecond)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope", nil))
	if !strings.Contains(buf.String(), "http requests not logged") {
		t.Errorf("the requests not logged are not counted in the log:\n%s", buf.String()[max(0, len(buf.String())-500):])
	}
}

// TestHandler_SaysOnceThatAProxyIsNotTrusted: requests forwarded by a proxy while
// TRUSTED_PROXIES is unset make every client one to the per-client limits: the log says so,
// once.
func TestHandler_SaysOnceThatAProxyIsNotTrusted(t *testing.T) {
	var buf logtest.Buffer
	h := (&api.Server{Log: slog.New(slog.NewTextHandler(&buf, nil))}).Handler()
	for range 3 {
		r := httptest.NewRequest("GET", "/nope", nil)
		r.Header.Set("X-Forwarded-For", "203.0.113.7")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if n := strings.Count(buf.String(), "TRUSTED_PROXIES is unset"); n != 1 {
		t.Errorf("said %d times, want once:\n%s", n, buf.String())
	}
}
