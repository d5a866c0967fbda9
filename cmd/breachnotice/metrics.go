package main

import (
	"context"
	"fmt"
	"net"

	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/internal/api"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/metrics"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// newMetrics returns the process's metrics when METRICS_ADDR is set, nil (off) otherwise. One
// per process: serve, worker and run build it before the engine, the operations and the HTTP
// handler, which all count into it.
func (a *app) newMetrics() *metrics.Metrics {
	if a.cfg.MetricsAddr == "" {
		return nil
	}
	return metrics.New(string(breach.ChannelEmail), string(breach.ChannelSMS))
}

// serveMetrics adds the database pool's and, with Redis, the queues' collectors to m and serves
// /metrics on METRICS_ADDR until ctx ends or wait is called; wait stops that listener (if ctx
// has not: the command is ending on an error of its own) and waits for it to close. With m nil
// (METRICS_ADDR unset) it does nothing. The address is bound before it returns, so that a port
// already taken stops the command at once rather than leaving it running unwatched.
func (a *app) serveMetrics(ctx context.Context, m *metrics.Metrics, db *postgres.DB, rdb redis.UniversalClient) (wait func() error, err error) {
	if m == nil {
		return func() error { return nil }, nil
	}
	if err := m.WatchPool(db.PoolStat); err != nil {
		return nil, err
	}
	if err := m.WatchQueues(rdb); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	ctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, ln, a.log) }()
	return func() error { stop(); return <-done }, nil
}

// readyChecks are /readyz's checks: PostgreSQL answers, its schema is at this binary's newest
// migration, the process's secret is the database's (asked until the migrations have made the
// binding table, then answered from memory), and Redis answers when the process uses one.
func readyChecks(db *postgres.DB, rdb redis.UniversalClient, ops *operation.Service) []api.ReadyCheck {
	checks := []api.ReadyCheck{
		{Name: "postgres", Check: db.Ping},
		{Name: "migrations", Check: db.MigrationsCurrent},
		{Name: "secret", Check: ops.CheckSecret},
	}
	if rdb != nil {
		checks = append(checks, api.ReadyCheck{Name: "redis", Check: func(ctx context.Context) error {
			return rdb.Ping(ctx).Err()
		}})
	}
	return checks
}
