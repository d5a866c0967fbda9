// Package httpserver runs an http.Server on a listener until its context ends, then shuts it
// down gracefully: the one shutdown sequence of every listener breachnotice opens (the console
// and API, the metrics).
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves srv on ln until ctx ends or the server fails. When ctx ends it stops accepting,
// gives the requests in flight up to grace to finish (SIGTERM during an upload or a scrape
// must not cut it short when it can end), and returns nil once the server is closed. ln is
// closed when Serve returns.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
