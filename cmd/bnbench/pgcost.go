package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// What a notice costs PostgreSQL: transactions, rows written and WAL, from the server's
// cumulative statistics of the benchmark's database (its own: nobody else writes there, and
// the benchmark's own polling, five queries a second, is negligible) and from the WAL itself.
//
// The WAL position is server-wide: on a shared server (other tests, other benchmarks) the
// difference counts everyone's writes. So the WAL written between the two readings is also
// read back (pg_walinspect, a contrib extension of PostgreSQL 15) and only the records of the
// benchmark's database are summed: those touching its relations, and every record of the
// transactions that did (their commits). A temporary replication slot, held open by the
// measurement's connection, keeps the WAL from being recycled before it is read.

// The targets of issue 11: half the record's cost per notice sent.
const (
	targetRowsInserted = 2.0
	targetWALKB        = 0.8
)

type pgCounters struct {
	xacts, inserted, updated, deleted, wal int64
	// The deliveries' updates, and those of them that were HOT (no index touched).
	deliveriesUpdated, hotUpdated int64
	lsn                           string
}

// pgCost measures one send run: start it before, call finish after.
type pgCost struct {
	conn   *pgx.Conn // holds the slot; nil when WAL cannot be read back
	dbURL  string
	before pgCounters
	why    string // why WAL is not read back, if it is not
}

func startPGCost(ctx context.Context, dbURL string) (*pgCost, error) {
	m := &pgCost{dbURL: dbURL}
	var err error
	if m.before, err = readPGCounters(ctx, dbURL); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_walinspect`); err != nil {
		m.why = err.Error()
		conn.Close(ctx)
		return m, nil
	}
	if _, err := conn.Exec(ctx, `SELECT pg_create_physical_replication_slot('bnbench_' || pg_backend_pid(), true, true)`); err != nil {
		m.why = err.Error()
		conn.Close(ctx)
		return m, nil
	}
	m.conn = conn
	// The slot reserves WAL from its creation: read the start again after it.
	m.before.lsn, err = currentLSN(ctx, conn)
	return m, err
}

func currentLSN(ctx context.Context, conn *pgx.Conn) (string, error) {
	var lsn string
	err := conn.QueryRow(ctx, `SELECT pg_current_wal_flush_lsn()::text`).Scan(&lsn)
	return lsn, err
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
		pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint, pg_current_wal_flush_lsn()::text,
		u.upd, u.hot
		FROM pg_stat_database, (SELECT coalesce(sum(n_tup_upd), 0)::bigint AS upd, coalesce(sum(n_tup_hot_upd), 0)::bigint AS hot
			FROM pg_stat_user_tables WHERE relname LIKE 'deliveries\_%') u
		WHERE datname = current_database()`).Scan(&c.xacts, &c.inserted, &c.updated, &c.deleted,
		&c.wal, &c.lsn, &c.deliveriesUpdated, &c.hotUpdated)
	return c, err
}

// close lets the slot go (it is temporary: closing its connection drops it).
func (m *pgCost) close() {
	if m.conn != nil {
		m.conn.Close(context.Background())
		m.conn = nil
	}
}

// finish describes what the n notices sent since start cost.
func (m *pgCost) finish(ctx context.Context, n int64) (string, error) {
	after, err := readPGCounters(ctx, m.dbURL)
	if err != nil {
		return "", err
	}
	before := m.before
	f := func(a, b int64) float64 { return float64(a-b) / float64(max(n, 1)) }
	inserted := f(after.inserted, before.inserted)
	var b strings.Builder
	fmt.Fprintf(&b, "%.2f transactions, %.2f rows inserted, %.2f updated (%.2f of the deliveries, %.0f%% of those HOT), %.2f deleted per notice",
		f(after.xacts, before.xacts), inserted, f(after.updated, before.updated), f(after.deliveriesUpdated, before.deliveriesUpdated),
		100*float64(after.hotUpdated-before.hotUpdated)/float64(max(after.deliveriesUpdated-before.deliveriesUpdated, 1)),
		f(after.deleted, before.deleted))
	fmt.Fprintf(&b, "\n            rows inserted per notice = %.2f × the %.0f-row target", inserted/targetRowsInserted, targetRowsInserted)
	serverWAL := f(after.wal, before.wal) / 1024
	if m.conn == nil {
		fmt.Fprintf(&b, "\n            WAL %.2f KB per notice, server-wide (others' writes count too: %s) = %.2f × the %.1f KB target",
			serverWAL, m.why, serverWAL/targetWALKB, targetWALKB)
		return b.String(), nil
	}
	defer m.close()
	end, err := currentLSN(ctx, m.conn)
	if err != nil {
		return "", err
	}
	var (
		total, fpi, records int64
		kinds               []string
	)
	qctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	rows, err := m.conn.Query(qctx, `
		WITH r AS MATERIALIZED (
			SELECT xid::text AS xid, resource_manager || '/' || split_part(record_type, ' ', 1) AS kind, record_length, fpi_length,
				substring(block_ref FROM '/' || d.oid || '/(\d+)')::oid AS relfile
			FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn), pg_database d WHERE d.datname = current_database()
		), xacts AS (SELECT DISTINCT xid FROM r WHERE relfile IS NOT NULL AND xid <> '0')
		SELECT kind || coalesce(' ' || (SELECT regexp_replace(c.relname, '_[0-9a-f]{18,32}', '') FROM pg_class c
			WHERE c.relfilenode = r.relfile), ''), sum(record_length)::bigint, sum(fpi_length)::bigint, count(*)
		FROM r WHERE relfile IS NOT NULL OR xid IN (SELECT xid FROM xacts) GROUP BY 1 ORDER BY 2 DESC`, before.lsn, end)
	if err == nil {
		var (
			kind       string
			bytes, fp  int64
			kindsCount int64
		)
		_, err = pgx.ForEachRow(rows, []any{&kind, &bytes, &fp, &kindsCount}, func() error {
			total, fpi, records = total+bytes, fpi+fp, records+kindsCount
			if len(kinds) < 10 {
				kinds = append(kinds, fmt.Sprintf("%s %.0f B", kind, f(bytes, 0)))
			}
			return nil
		})
	}
	if err != nil {
		fmt.Fprintf(&b, "\n            WAL %.2f KB per notice, server-wide (reading it back: %v) = %.2f × the %.1f KB target",
			serverWAL, err, serverWAL/targetWALKB, targetWALKB)
		return b.String(), nil
	}
	wal := f(total, 0) / 1024
	fmt.Fprintf(&b, "\n            WAL %.2f KB per notice (%.1f records, %.2f KB of them full-page images; the server wrote %.2f KB in all)"+
		"\n            = %.2f × the %.1f KB target; by record kind and relation, per notice: %s", wal, f(records, 0), f(fpi, 0)/1024, serverWAL,
		wal/targetWALKB, targetWALKB, strings.Join(kinds, ", "))
	return b.String(), nil
}
