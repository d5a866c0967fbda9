package postgres

import (
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The status reads' statements run with their generic plans, and only they: the setting ends
// with the batch, and the connection's next statement is planned as PostgreSQL chooses again.
func TestQueryGeneric_GenericPlansForTheBatchOnly(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	db, err := Open(t.Context(), url+sep+"pool_max_conns=1") // one connection: the next statement runs on it too
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mode := func(rows pgx.Rows, into *string) error {
		rows.Next()
		err := rows.Scan(into)
		rows.Close()
		return err
	}
	var before, inside, after string
	if err := db.pool.QueryRow(t.Context(), `SELECT current_setting('plan_cache_mode') || '/jit=' || current_setting('jit')`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if err := db.queryGeneric(t.Context(), func(rows pgx.Rows) error { return mode(rows, &inside) },
		`SELECT current_setting('plan_cache_mode') || '/jit=' || current_setting('jit') WHERE $1::int = 1`, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.pool.QueryRow(t.Context(), `SELECT current_setting('plan_cache_mode') || '/jit=' || current_setting('jit')`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if inside != "force_generic_plan/jit=off" || after != before {
		t.Errorf("plan_cache_mode/jit in the batch %q, after it %q; want force_generic_plan/jit=off, then as before (%q)", inside, after, before)
	}
}
