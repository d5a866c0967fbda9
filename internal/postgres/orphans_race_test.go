package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// orphanSetup is a running campaign of six emails, the first three claimed by a worker silent
// for an hour (silence makes it so again), the others by a live one; every claim-statement
// deletion of the campaign is held a second by a trigger (dropped with dropHold).
type orphanSetup struct {
	db       *postgres.DB
	pool     *pgxpool.Pool
	c        *breach.Campaign
	silent   string
	silence  func()
	dropHold func()
}

func newOrphanSetup(t *testing.T) *orphanSetup {
	t.Helper()
	db, pool := open(t), rawPool(t)
	ctx := t.Context()
	var list strings.Builder
	list.WriteString("customer_id,email\n")
	for i := range 6 {
		fmt.Fprintf(&list, "H%d,h%d.%s@example.com\n", i, i, uuid.NewString()[:8])
	}
	c := runningCampaign(t, db, list.String(), 100)

	// The silent worker claims the first three, a live one the rest.
	silent, live := uuid.NewString(), uuid.NewString()
	for _, w := range []string{silent, live} {
		if err := db.RegisterWorker(ctx, w, "test", 1, ""); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	rows, err := pool.Query(ctx, `SELECT recipient_id FROM deliveries WHERE campaign_id = $1 AND channel = 'email' ORDER BY 1`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if rows.Close(); len(ids) != 6 {
		t.Fatalf("%d deliveries, want 6", len(ids))
	}
	mine, _, _, err := db.ClaimRange(ctx, c.ID, breach.ChannelEmail, ids[0], ids[3], silent, false, 0)
	if err != nil || len(mine) != 3 {
		t.Fatalf("silent worker claimed %d (%v), want 3", len(mine), err)
	}
	if theirs, _, _, err := db.ClaimRange(ctx, c.ID, breach.ChannelEmail, ids[3], ids[5]+1, live, false, 0); err != nil || len(theirs) != 3 {
		t.Fatalf("live worker claimed %d (%v), want 3", len(theirs), err)
	}
	silence := func() {
		t.Helper()
		if _, err := pool.Exec(ctx, `UPDATE workers SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, silent); err != nil {
			t.Fatal(err)
		}
	}
	silence()

	if _, err := pool.Exec(ctx, fmt.Sprintf(`
		CREATE FUNCTION hold_claim_delete() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_sleep(1); RETURN OLD; END $$;
		CREATE TRIGGER hold_claim_delete BEFORE DELETE ON delivery_claims
			FOR EACH ROW WHEN (OLD.campaign_id = '%s') EXECUTE FUNCTION hold_claim_delete()`, c.ID)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), `DROP TRIGGER IF EXISTS hold_claim_delete ON delivery_claims; DROP FUNCTION IF EXISTS hold_claim_delete()`)
	})
	dropHold := func() {
		if _, err := pool.Exec(context.Background(), `DROP TRIGGER IF EXISTS hold_claim_delete ON delivery_claims`); err != nil {
			t.Fatal(err)
		}
	}
	return &orphanSetup{db: db, pool: pool, c: c, silent: silent, silence: silence, dropHold: dropHold}
}

// sending is how many of the silent worker's claims are still sending.
func (o *orphanSetup) sending(t *testing.T) int {
	t.Helper()
	var n int
	if err := o.pool.QueryRow(t.Context(), `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND worker_id = $2 AND state = 'sending'`,
		o.c.ID, o.silent).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A worker silent for long is found dead when its claim statement is taken, and heartbeats
// again before its claims are released (a stall of its own: a pause, a slow database). The
// reconciler must judge it one way for both: taking the statement but then, seeing it alive,
// leaving its claims sending lost them for good — no statement left to find them by once the
// worker really died, while another worker's statement kept the whole search from running.
// A trigger holds the reconciler between the two while the worker heartbeats.
func TestReleaseOrphans_AWorkerHeartbeatingMidReconcileKeepsItsClaimsFindable(t *testing.T) {
	o := newOrphanSetup(t)
	db, c, silent, ctx := o.db, o.c, o.silent, t.Context()
	beat := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // the reconciler is in the trigger
		beat <- db.Heartbeat(context.Background(), silent)
	}()
	first, err := db.ReleaseOrphans(ctx, c.ID, uuid.NewString(), 30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-beat; err != nil {
		t.Fatal(err)
	}
	o.dropHold()

	// Then it really dies: its claims are released, in the first pass or this one.
	o.silence()
	second, err := db.ReleaseOrphans(ctx, c.ID, uuid.NewString(), 30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(first[breach.ChannelEmail]) + len(second[breach.ChannelEmail]); got != 3 {
		t.Errorf("released %d+%d of the silent worker's 3 claims", len(first[breach.ChannelEmail]), len(second[breach.ChannelEmail]))
	}
	if n := o.sending(t); n != 0 {
		t.Errorf("%d of the dead worker's claims still sending", n)
	}
}

// Two workers' reconcilers taking the same dead worker's claims at once: one releases them,
// the other finds them taken and says nothing went wrong.
func TestReleaseOrphans_TwoReconcilersAtOnce(t *testing.T) {
	o := newOrphanSetup(t)
	type result struct {
		released map[breach.Channel][]int64
		err      error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			r, err := o.db.ReleaseOrphans(context.Background(), o.c.ID, uuid.NewString(), 30*time.Second, 0)
			results <- result{r, err}
		}()
	}
	total := 0
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Errorf("reconciler: %v", r.err)
		}
		total += len(r.released[breach.ChannelEmail])
	}
	if total != 3 {
		t.Errorf("released %d claims in all, want the dead worker's 3 once", total)
	}
	if n := o.sending(t); n != 0 {
		t.Errorf("%d of the dead worker's claims still sending", n)
	}
}
