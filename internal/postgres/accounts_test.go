package postgres_test

import (
	"slices"
	"strings"
	"testing"
	"time"
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

// An attempt refused for the limits is not counted: every refused retry moved the end of the
// pause, and a user who kept trying was kept out for as long as they tried (a review).
func TestSignInFailures_ARefusedAttemptDoesNotLengthenThePause(t *testing.T) {
	db := open(t)
	login, ip := []byte("refused-attempts-"+t.Name()), "192.0.2.77"
	var got []int
	for range 5 {
		byPair, _, err := db.RecordSignInAttempt(t.Context(), login, ip, time.Hour, 2, 30)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, byPair)
	}
	if !slices.Equal(got, []int{1, 2, 3, 3, 3}) {
		t.Errorf("failures counted at each attempt %v, want [1 2 3 3 3]: the refused ones (past 2) not recorded", got)
	}
}
