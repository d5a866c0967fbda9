package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Ping checks that the database answers, for the readiness probe.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// MigrationsCurrent checks that the database's schema is at the newest migration this binary
// embeds, for the readiness probe: a process that serves before `breachnotice migrate` ran
// would answer with queries the schema cannot take. Behind is an EUNAVAILABLE error naming
// both versions; a database ahead of the binary (an older binary during an upgrade, which
// migrations keep working: expand, then contract) is current.
func (db *DB) MigrationsCurrent(ctx context.Context) error {
	// The pool's connections, through database/sql for goose; closing it leaves the pool open.
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	provider, err := migrationProvider(sqlDB)
	if err != nil {
		return err
	}
	current, err := provider.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("postgres: read the schema's version: %w", err)
	}
	var newest int64
	for _, s := range provider.ListSources() {
		newest = max(newest, s.Version)
	}
	if current < newest {
		return breach.Errorf(breach.EUNAVAILABLE, "the database is at migration %d, this binary needs %d: run breachnotice migrate", current, newest)
	}
	return nil
}

// PoolStat is the connection pool's use now, for the metrics.
func (db *DB) PoolStat() *pgxpool.Stat { return db.pool.Stat() }
