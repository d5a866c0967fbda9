package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/breachnotice/breachnotice/internal/httpserver"
)

// Serve serves /metrics on ln (bound to METRICS_ADDR) until ctx ends, then shuts it down,
// giving a scrape in flight a few seconds. It is a listener of its own, apart from the
// console's and the API's, so that the metrics are never public by accident when HTTP_ADDR
// is. ln is closed when Serve returns. On nil Metrics it closes ln and returns.
func (m *Metrics) Serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	if m == nil {
		return ln.Close()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	// A scrape is a small GET: a request may take no longer to arrive, nor its answer to leave (a
	// body announced and never sent held a connection for ever, a review).
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	if err := httpserver.Serve(ctx, srv, ln, 5*time.Second); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
