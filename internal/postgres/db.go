// Package postgres stores breachnotice's state in PostgreSQL, the system's source of truth,
// through pgx. Each table's SQL lives in the file named for it; the schema is in the
// repository's migrations/ directory, applied by Migrate.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/migrations"
)

// DB is a pool of connections to breachnotice's database.
type DB struct {
	pool *pgxpool.Pool
	// importSlots bounds the imports running at once. Each holds a connection for its whole
	// length; without a bound, enough concurrent uploads would take every connection and
	// stall everything else, the imports' own progress updates included.
	importSlots chan struct{}
	// importSlotWait is how long an import waits for a slot (importSlotWait; tests shorten it).
	importSlotWait time.Duration
	// pending caches the slowest part of CampaignStatus (see pendingCache).
	pending *pendingCache
	// owed caches the letters an approved campaign's list owes (see owedLetters).
	owed *owedLetters
	// reads writes the audit rows of reads in batches (see AuditRead).
	reads *readAuditor
	// tokens caches the operator tokens checked, while CacheTokens runs (see tokenCache).
	tokens tokenCache
	// quiet caches the quiet-hours wait of campaigns where many SMS wait (see quietCache).
	quiet quietCache
	// Now, when set, is the clock quiet-hours holds (deliveries' not_before) are judged by:
	// the sending engine's (dispatch.Engine.Now), so that a test can move both at once. nil:
	// time.Now.
	Now func() time.Time
}

// defaultMaxConns is the pool size unless DATABASE_URL sets pool_max_conns (pgx's default,
// max(4, CPUs), is too small for imports beside API requests).
const defaultMaxConns = 16

// Open connects to the database at url (a postgres:// URL or a key=value DSN) and checks that
// it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DATABASE_URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerUUID(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return &DB{pool: pool, importSlots: make(chan struct{}, max(1, cfg.MaxConns/4)), importSlotWait: importSlotWait, pending: &pendingCache{}, owed: &owedLetters{},
		reads: newReadAuditor(pool)}, nil
}

// Warm opens every connection of the pool now, at once, rather than one by one under the
// first requests. A connection is a new PostgreSQL backend whose caches (catalogs, the
// partitions it touches) start empty, and whose first runs of each statement are planned
// afresh: `serve` at its first seconds of a status-screen load (200 requests/s) opened them
// while answering, and that window's p99 was seconds on the shared 2-core machine. Warming
// half the pool was not enough: the first burst grew the pool from the 8 warmed to all 16
// within two seconds of listening (pg_stat_activity's backend_start), and those 8 were cold.
// Connections idle for long are closed by the pool again (pgx: 30 minutes), so a server that
// stays quiet gives them back.
//
// Only the connections free when it starts are warmed, and it waits for them at most
// warmWait: in `run` the same pool serves the worker, whose reconciler holds a connection for
// as long as it runs — waiting for the whole pool would wait for ever.
func (db *DB) Warm(ctx context.Context) error {
	stat := db.pool.Stat()
	n := int(stat.MaxConns() - stat.AcquiredConns())
	conns := make([]*pgxpool.Conn, 0, max(n, 0))
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, warmWait)
	defer cancel()
	for range n {
		c, err := db.pool.Acquire(wctx)
		if err != nil {
			if ctx.Err() == nil && wctx.Err() != nil {
				break // the others are busy elsewhere in this process: warm what was free
			}
			return fmt.Errorf("postgres: open connections: %w", err)
		}
		conns = append(conns, c)
	}
	// The tables every status request reads, so that each backend has them in its caches. A
	// database not migrated yet has none: serving then says so (/readyz), it is no reason to
	// stop here.
	for _, c := range conns {
		if _, err := c.Exec(ctx, `SELECT FROM campaigns, delivery_counts, deliveries, delivery_events, recipients, api_tokens, audit_log LIMIT 0`); err != nil {
			break
		}
	}
	return nil
}

// warmWait bounds Warm's wait for connections another part of the process holds.
const warmWait = 3 * time.Second

// Close writes the audit rows still waiting, then closes every connection.
func (db *DB) Close() {
	db.reads.close()
	db.pool.Close()
}

// Migrate applies the pending migrations to the database at url and returns how many it
// applied. A session-level advisory lock makes it safe for several processes (workers starting
// together) to call at once: one migrates, the others wait and find nothing to do.
//
// A migration's statement waits at most migrationLockTimeout for a lock (unless url sets
// lock_timeout): one that must lock a table a long transaction holds — a running import holds
// its campaign's row for minutes — would otherwise queue behind it, and every request touching
// that table would queue behind the migration, stalling the console and the workers. It gives
// up instead (its transaction rolls back), and Migrate tries again, for up to migrationPatience.
func Migrate(ctx context.Context, url string) (int, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return 0, fmt.Errorf("postgres: parse DATABASE_URL: %w", err)
	}
	if cfg.RuntimeParams["lock_timeout"] == "" {
		cfg.RuntimeParams["lock_timeout"] = strconv.Itoa(int(migrationLockTimeout.Milliseconds()))
	}
	sqlDB := stdlib.OpenDB(*cfg)
	defer sqlDB.Close()
	applied, err := migrateWithPatience(ctx, sqlDB)
	if err != nil || !slices.Contains(applied, 1) {
		return len(applied), err
	}
	// A database this run created from nothing has never had a process of an earlier
	// release: what waits for them to be gone applies at once (see FinishUpgrade). (One whose
	// first migration was cut short waits for the command, like an upgraded one.)
	if _, err := sqlDB.ExecContext(ctx, finishUpgradeSQL); err != nil {
		return len(applied), fmt.Errorf("postgres: migrate: %w", err)
	}
	return len(applied), nil
}

// FinishUpgrade lets what waits for the previous release to be gone begin, once serve and the
// workers are rolled (operation.Service.FinishUpgrade): today, a notice sent from its claim is
// held on its delivery instead of writing a sent event, which the previous release's readers
// would miss (migration 00025). Audited when it changes anything. A database Migrate creates
// starts so.
func (db *DB) FinishUpgrade(ctx context.Context, by string) error {
	return db.inTx(ctx, "finish the upgrade", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, finishUpgradeSQL)
		if err != nil {
			return fmt.Errorf("finish the upgrade: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return audit(ctx, tx, by, breach.ActionUpgradeFinish, "", nil)
	})
}

const finishUpgradeSQL = `UPDATE sent_record SET held = true, set_at = now() WHERE NOT held`

// PrepareRollback undoes FinishUpgrade before the previous release runs again
// (operation.Service.PrepareRollback): the sent entries deliveries hold are written as the
// events that release reads, and no more are held. The record's writers wait meanwhile (a read
// of every delivery, once).
func (db *DB) PrepareRollback(ctx context.Context, by string) error {
	return db.inTx(ctx, "prepare the rollback", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE;
			UPDATE sent_record SET held = false, set_at = now()`); err != nil {
			return fmt.Errorf("prepare the rollback: %w", err)
		}
		written, err := tx.Exec(ctx, `
			INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt, provider_id, error, started_at)
			SELECT campaign_id, recipient_id, channel, 'sent', source, updated_at, attempts, '', error, claimed_at
			FROM deliveries WHERE state = 'sent' AND claimed_at IS NOT NULL`)
		if err != nil {
			return fmt.Errorf("prepare the rollback: write the held entries as events: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET claimed_at = NULL WHERE claimed_at IS NOT NULL`); err != nil {
			return fmt.Errorf("prepare the rollback: %w", err)
		}
		return audit(ctx, tx, by, breach.ActionUpgradeRollback, "", map[string]any{"events_written": written.RowsAffected()})
	})
}

// migrateWithPatience applies the pending migrations, trying again while one gives up on its
// locks (see Migrate).
func migrateWithPatience(ctx context.Context, sqlDB *sql.DB) ([]int64, error) {
	var applied []int64
	wait := time.Second
	deadline := time.Now().Add(migrationPatience)
	for {
		versions, err := migrate(ctx, sqlDB)
		applied = append(applied, versions...)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" { // lock_not_available: lock_timeout expired
			return applied, err
		}
		if time.Now().Add(wait).After(deadline) {
			return applied, fmt.Errorf("postgres: migrate: a migration waited %s for locks that running transactions (a large import?) hold: run it again once they end: %w",
				migrationPatience, err)
		}
		select {
		case <-ctx.Done():
			return applied, context.Cause(ctx)
		case <-time.After(wait):
		}
		wait = min(2*wait, 15*time.Second)
	}
}

const (
	// migrationLockTimeout is how long a migration's statement waits for a lock (see Migrate).
	migrationLockTimeout = 5 * time.Second
	// migrationPatience is how long Migrate keeps trying a migration that gives up on its locks.
	migrationPatience = 10 * time.Minute
)

// migrate applies what is pending, each migration in its own transaction, and returns the
// versions that committed (before an error, if one stopped it).
func migrate(ctx context.Context, sqlDB *sql.DB) ([]int64, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	provider, err := migrationProvider(sqlDB, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			results = partial.Applied
		}
		err = fmt.Errorf("postgres: migrate: %w", err)
	}
	versions := make([]int64, len(results))
	for i, r := range results {
		versions[i] = r.Source.Version
	}
	return versions, err
}

// migrationProvider is goose's view of the embedded migrations on sqlDB, for Migrate and for
// the readiness check (MigrationsCurrent).
func migrationProvider(sqlDB *sql.DB, opts ...goose.ProviderOption) (*goose.Provider, error) {
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("postgres: load migrations: %w", err)
	}
	return provider, nil
}

// parseID turns an identifier from a request into a UUID; a malformed one names nothing, so
// it is reported as not found, exactly like a well-formed unknown one.
func parseID(kind, id string) (uuid.UUID, error) {
	// Only the canonical spelling (breach.ParseID): uuid.Parse also takes "urn:uuid:…" and
	// braces, which the database would then be given as text in other statements.
	if _, err := breach.ParseID(kind, id); err != nil {
		return uuid.UUID{}, breach.Errorf(breach.ENOTFOUND, "%s %q not found", kind, id)
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.UUID{}, breach.Errorf(breach.ENOTFOUND, "%s %q not found", kind, id)
	}
	return u, nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// DB is the sending engine's record.
var _ breach.DeliveryStore = (*DB)(nil)

// inTx runs fn in a transaction, committed when fn returns nil; what names the work in errors.
func (db *DB) inTx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}
