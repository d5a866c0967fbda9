package postgres_test

import (
	"strings"
	"testing"
)

// Every sign-in attempt first deletes the failures older than a day: on a table a flood of
// attempts has filled, that must be an index range, not a scan of the whole table.
func TestSignInFailures_CleanupOfOldFailuresIsAnIndexRange(t *testing.T) {
	pool := rawPool(t)
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN DELETE FROM signin_failures WHERE at < now() - interval '1 day'`)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "signin_failures_at") {
		t.Errorf("the cleanup of old sign-in failures does not use the index signin_failures_at:\n%s", p)
	}
}
