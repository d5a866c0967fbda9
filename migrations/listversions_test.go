package migrations_test

import (
	"context"
	"database/sql"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/migrations"
)

// migrateTo brings the database at url up to version (the migrations' numbers).
func migrateTo(t *testing.T, url string, version int64) {
	t.Helper()
	if _, err := migrationsOn(t, url).UpTo(t.Context(), version); err != nil {
		t.Fatalf("migrate to %d: %v", version, err)
	}
}

// migrateDownTo takes the database at url down to version.
func migrateDownTo(t *testing.T, url string, version int64) {
	t.Helper()
	if _, err := migrationsOn(t, url).DownTo(t.Context(), version); err != nil {
		t.Fatalf("migrate down to %d: %v", version, err)
	}
}

// migrationsOn is goose's view of the migrations on the database at url, for the test.
func migrationsOn(t *testing.T, url string) *goose.Provider {
	t.Helper()
	sqlDB, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	return provider
}

// databaseAt is a database of the test's own, migrated up to version, and a connection to it;
// both go when the test ends.
func databaseAt(t *testing.T, version int64) (string, *pgx.Conn) {
	t.Helper()
	url := pgtest.Empty(t)
	migrateTo(t, url, version)
	return url, connect(t, url)
}

// connect is a connection to the database at url, closed when the test ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Migrations 00020 and 00021 keep the approvals that counted when they run, and only those: an
// approval given after the list's last change (an import, or a codes import that added codes)
// is of the list as it is; one given before is not, whatever state the campaign is in. An
// import the previous release dated before the approval (when its transaction began, before it
// waited on the approval's lock) but whose audit row follows it changed the list after it.
func TestListVersions_TheApprovalsThatCountedStillCount(t *testing.T) {
	url, conn := databaseAt(t, 19)
	ctx := t.Context()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	const (
		imported = "00000000-0000-4000-8000-000000000001"
		codes    = "00000000-0000-4000-8000-000000000002"
		never    = "00000000-0000-4000-8000-000000000003"
		waited   = "00000000-0000-4000-8000-000000000004"
		running  = "00000000-0000-4000-8000-000000000005"
	)
	for _, id := range []string{imported, codes, never, waited, running} {
		exec(`INSERT INTO campaigns (id, name, spec, source) VALUES ($1, 'c', '{}', '')`, id)
	}
	// waited: an import began at 09:00, waited for ana's approval (09:00:30), landed at
	// 09:01 (its audit row) but is dated 09:00; ben approved at 09:30.
	exec(`INSERT INTO imports (campaign_id, filename, state, started_at, finished_at) VALUES ($1, 'a.csv', 'completed', '2026-12-01 09:00Z', '2026-12-01 09:00Z')`, waited)
	exec(`INSERT INTO audit_log (at, actor, action, campaign_id, detail) VALUES ('2026-12-01 09:01Z', 'maker', 'import', $1, '{"state": "completed"}')`, waited)
	exec(`INSERT INTO campaign_approvals (campaign_id, actor, at) VALUES ($1, 'ana', '2026-12-01 09:00:30Z'), ($1, 'ben', '2026-12-01 09:30Z')`, waited)
	// running (no longer a draft): imported at 08:00; ana approved, codes were added, ben and
	// carl approved and it was approved.
	exec(`UPDATE campaigns SET state = 'running' WHERE id = $1`, running)
	exec(`INSERT INTO imports (campaign_id, filename, state, started_at, finished_at) VALUES ($1, 'a.csv', 'completed', '2026-12-01 08:00Z', '2026-12-01 08:00Z')`, running)
	exec(`INSERT INTO audit_log (at, actor, action, campaign_id, detail) VALUES ('2026-12-01 10:00Z', 'oscar', 'codes.import', $1, '{"added": 5}')`, running)
	exec(`INSERT INTO campaign_approvals (campaign_id, actor, at) VALUES ($1, 'ana', '2026-12-01 09:00Z'), ($1, 'ben', '2026-12-01 11:00Z'), ($1, 'carl', '2026-12-01 11:30Z')`, running)
	// imported: an approval, then a (failed) import at 10:00, then one approval after it.
	exec(`INSERT INTO campaign_approvals (campaign_id, actor, at) VALUES ($1, 'ana', '2026-12-01 09:00Z'), ($1, 'ben', '2026-12-01 11:00Z')`, imported)
	exec(`INSERT INTO imports (campaign_id, filename, state, started_at, finished_at) VALUES ($1, 'a.csv', 'completed', '2026-12-01 08:00Z', '2026-12-01 08:01Z'),
		($1, 'b.csv', 'failed', '2026-12-01 09:59Z', '2026-12-01 10:00Z')`, imported)
	// codes: imported at 08:00, codes that added none at 09:30, codes that added some at 10:00.
	exec(`INSERT INTO imports (campaign_id, filename, state, started_at, finished_at) VALUES ($1, 'a.csv', 'completed', '2026-12-01 08:00Z', '2026-12-01 08:00Z')`, codes)
	exec(`INSERT INTO audit_log (at, actor, action, campaign_id, detail) VALUES ('2026-12-01 09:30Z', 'oscar', 'codes.import', $1, '{"added": 0}'),
		('2026-12-01 10:00Z', 'oscar', 'codes.import', $1, '{"added": 20}')`, codes)
	exec(`INSERT INTO campaign_approvals (campaign_id, actor, at) VALUES ($1, 'ana', '2026-12-01 09:45Z'), ($1, 'ben', '2026-12-01 10:30Z')`, codes)
	// never: no import, an approval (as data; the rules refuse it).
	exec(`INSERT INTO campaign_approvals (campaign_id, actor, at) VALUES ($1, 'ana', '2026-12-01 09:00Z')`, never)

	migrateTo(t, url, 21)
	rows, err := conn.Query(ctx, `
		SELECT c.id::text, a.actor FROM campaign_approvals a JOIN campaigns c ON c.id = a.campaign_id
		WHERE a.list_version = c.list_version ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	type counted struct{ Campaign, Actor string }
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[counted])
	if err != nil {
		t.Fatal(err)
	}
	want := []counted{{imported, "ben"}, {codes, "ben"}, {never, "ana"}, {waited, "ben"}, {running, "ben"}, {running, "carl"}}
	if !slices.Equal(got, want) {
		t.Fatalf("approvals that count after the migration: %v, want %v", got, want)
	}
}

// The database moves a campaign's list version, whoever writes: an import that completes and
// codes added to a draft move it; a failed import, a codes statement that added nothing and
// codes added outside a draft do not. An approval is stamped with the version it was given for.
func TestListVersions_MoveWithTheListWhoeverWrites(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var id string
	if err := conn.QueryRow(ctx, `INSERT INTO campaigns (name, spec, source) VALUES ('v', '{}', '') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	version := func() (v int64) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT list_version FROM campaigns WHERE id = $1`, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	steps := []struct {
		what  string
		sql   string
		moves bool
	}{
		{"an import starts", `INSERT INTO imports (campaign_id, filename) VALUES ($1, 'a.csv')`, false},
		{"it fails", `UPDATE imports SET state = 'failed', finished_at = now() WHERE campaign_id = $1`, false},
		{"another starts", `INSERT INTO imports (campaign_id, filename) VALUES ($1, 'b.csv')`, false},
		{"it completes", `UPDATE imports SET state = 'completed', finished_at = now() WHERE campaign_id = $1 AND filename = 'b.csv'`, true},
		{"it is written again, still completed", `UPDATE imports SET state = 'completed' WHERE campaign_id = $1 AND filename = 'b.csv'`, false},
		{"an approval", `INSERT INTO campaign_approvals (campaign_id, actor) VALUES ($1, 'ana')`, false},
		{"codes added to the draft", `INSERT INTO enrolment_codes (campaign_id, code) VALUES ($1, 'C1'), ($1, 'C2')`, true},
		{"a codes statement that adds none", `INSERT INTO enrolment_codes (campaign_id, code) SELECT $1, 'C3' WHERE false`, false},
		{"the campaign is approved, codes added", `WITH a AS (UPDATE campaigns SET state = 'approved' WHERE id = $1 RETURNING id)
			INSERT INTO enrolment_codes (campaign_id, code) SELECT id, 'C4' FROM a`, false},
	}
	for _, s := range steps {
		before := version()
		if _, err := conn.Exec(ctx, s.sql, id); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		if moved := version() != before; moved != s.moves {
			t.Errorf("%s: the version moved %v (%d → %d), want %v", s.what, moved, before, version(), s.moves)
		}
	}
	if t.Failed() {
		return
	}
	var stamped, approvedAt int64
	if err := conn.QueryRow(ctx, `SELECT list_version FROM campaign_approvals WHERE campaign_id = $1 AND actor = 'ana'`, id).Scan(&stamped); err != nil {
		t.Fatal(err)
	}
	// The version ana approved is the one the completed import gave (the versions since moved).
	if err := conn.QueryRow(ctx, `SELECT last_value FROM campaign_list_versions`).Scan(&approvedAt); err != nil {
		t.Fatal(err)
	}
	if stamped == 0 || stamped != approvedAt-1 {
		t.Errorf("the approval is stamped with version %d, want %d (the version after the completed import)", stamped, approvedAt-1)
	}
	// A version is never given twice, to this campaign or another.
	var other int64
	if err := conn.QueryRow(ctx, `INSERT INTO campaigns (name, spec, source) VALUES ('w', '{}', '') RETURNING list_version`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if other <= approvedAt {
		t.Errorf("a new campaign's version %d, want one never given (> %d)", other, approvedAt)
	}
}

// A migration that must lock a table a long transaction holds — migration 00020 adds a column to
// campaigns, and a running import holds its campaign's row for minutes — gives up its wait
// after the lock timeout, so the reads queued behind it are not held for the import's length,
// and Migrate tries again until it can.
func TestMigrate_ALongTransactionDelaysAMigrationWithoutStallingReads(t *testing.T) {
	raw, hold := databaseAt(t, 19)
	ctx := t.Context()
	var id string
	if err := hold.QueryRow(ctx, `INSERT INTO campaigns (name, spec, source) VALUES ('held', '{}', '') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	tx, err := hold.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("lock_timeout", "200")
	u.RawQuery = q.Encode()
	migrated := make(chan error, 1)
	go func() {
		_, err := postgres.Migrate(ctx, u.String())
		migrated <- err
	}()
	reader, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close(context.Background())
	if _, err := reader.Exec(ctx, `SET statement_timeout = '1500ms'`); err != nil {
		t.Fatal(err)
	}
	for range 6 { // 3 s of reads while the import holds its row
		time.Sleep(500 * time.Millisecond)
		var n int
		if err := reader.QueryRow(ctx, `SELECT count(*) FROM campaigns`).Scan(&n); err != nil {
			t.Fatalf("a read of campaigns while the migration waits for the import: %v", err)
		}
	}
	select {
	case err := <-migrated:
		t.Fatalf("the migration ended while the import held its campaign: %v", err)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-migrated; err != nil {
		t.Fatalf("the migration once the import ended: %v", err)
	}
	var version int64
	if err := reader.QueryRow(ctx, `SELECT list_version FROM campaigns WHERE id = $1`, id).Scan(&version); err != nil || version == 0 {
		t.Fatalf("list_version after the migration: %d, %v", version, err)
	}
}
