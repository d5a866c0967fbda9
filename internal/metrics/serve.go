package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve serves /metrics on addr (METRICS_ADDR) until ctx ends, then shuts its listener down,
// giving a scrape in flight a few seconds. It is a listener of its own, apart from the
// console's and the API's, so that the metrics are never public by accident when HTTP_ADDR
// is; ready, if set, is called with the address bound (addr may have port 0). On nil Metrics
// it returns at once.
func (m *Metrics) Serve(ctx context.Context, addr string, log *slog.Logger, ready func(addr string)) error {
	if m == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR: %w", err)
	}
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("metrics shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
