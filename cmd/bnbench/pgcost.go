package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// What a notice costs PostgreSQL: transactions, rows written and WAL, from the server's
// cumulative statistics of the benchmark's database (its own: nobody else writes there, and
// the benchmark's own polling, five queries a second, is negligible) and its WAL position
// (server-wide: other databases' writes count too, on a shared server).

type pgCounters struct {
	xacts, inserted, updated, deleted, wal int64
}

func readPGCounters(ctx context.Context, dbURL string) (pgCounters, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return pgCounters{}, err
	}
	defer conn.Close(ctx)
	// Statistics are flushed by backends at most once a second; a snapshot taken in this
	// transaction must not be a cached one.
	if _, err := conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
		return pgCounters{}, err
	}
	var c pgCounters
	err = conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback, tup_inserted, tup_updated, tup_deleted,
		pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.xacts, &c.inserted, &c.updated, &c.deleted, &c.wal)
	return c, err
}

// perNotice describes the difference from before to c for n notices.
func (c pgCounters) perNotice(before pgCounters, n int64) string {
	f := func(a, b int64) float64 { return float64(a-b) / float64(max(n, 1)) }
	return fmt.Sprintf("%.2f transactions, %.1f rows inserted, %.1f updated, %.1f deleted, %.1f KB of WAL per notice",
		f(c.xacts, before.xacts), f(c.inserted, before.inserted), f(c.updated, before.updated),
		f(c.deleted, before.deleted), f(c.wal, before.wal)/1024)
}
