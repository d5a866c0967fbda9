package migrations_test

import (
	"testing"

	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// Migrations 00025 and 00026 (a sent notice held on its delivery): the chart's counters are filled from
// the events written before it, counting what the chart counted (the engine's sent, failed and
// bounced on email and SMS, not an operator's cancellation, not a delivery confirmed); after
// them, a database that had a release before does not hold sent entries until the upgrade is
// finished; a record that keeps its claim's time writes no sent event, while the previous
// release's record (which does not) still gets one; going back down writes the held entries
// as events, and up again counts the chart afresh.
func TestSentOnDelivery_ChartFilledAndBothReleasesRecorded(t *testing.T) {
	url, conn := databaseAt(t, 24)
	ctx := t.Context()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	count := func(sql string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	const c = "00000000-0000-4000-8000-0000000000c1"
	exec(`INSERT INTO campaigns (id, name, spec, source) VALUES ($1, 'c', '{}', '')`, c)
	exec(`CREATE TABLE deliveries_c1 PARTITION OF deliveries FOR VALUES IN ('` + c + `')`)
	exec(`CREATE TABLE delivery_events_c1 PARTITION OF delivery_events FOR VALUES IN ('` + c + `')`)
	for _, e := range []struct {
		channel, state, source string
		n                      int
	}{
		{"email", "sent", "worker", 7},
		{"email", "delivered", "webhook", 5},
		{"email", "bounced", "webhook", 2},
		{"sms", "failed", "worker", 1},
		{"email", "failed", "operator", 40},
		{"email", "queued", "planner", 9},
	} {
		exec(`INSERT INTO delivery_events (campaign_id, recipient_id, channel, state, source, at, attempt)
			SELECT $1, i, $2, $3, $4, timestamptz '2026-12-01 10:00:30Z', 1 FROM generate_series(1, $5) i`,
			c, e.channel, e.state, e.source, e.n)
	}

	migrateTo(t, url, 26)
	var held bool
	if err := conn.QueryRow(ctx, `SELECT held FROM sent_record`).Scan(&held); err != nil || held {
		t.Errorf("sent_record.held = %v (%v) after an upgrade's migrations, want false until the upgrade is finished", held, err)
	}
	chart := func(channel, outcome string) int64 {
		t.Helper()
		return count(`SELECT coalesce(sum(n), 0) FROM delivery_minutes WHERE campaign_id = $1 AND channel = $2 AND outcome = $3
			AND minute = '2026-12-01 10:00Z'`, c, channel, outcome)
	}
	if s, f, sf := chart("email", "sent"), chart("email", "failed"), chart("sms", "failed"); s != 7 || f != 2 || sf != 1 {
		t.Errorf("counters filled from the events: email sent %d failed %d, SMS failed %d; want 7, 2 (bounced), 1", s, f, sf)
	}

	// Two deliveries claimed; one recorded as this release does, one as the previous did.
	exec(`INSERT INTO deliveries (campaign_id, recipient_id, channel, state, source, queued_at)
		VALUES ($1, 100, 'email', 'queued', 'planner', now()), ($1, 101, 'email', 'queued', 'planner', now())`, c)
	exec(`UPDATE deliveries SET state = 'sending', attempts = 1, worker_id = gen_random_uuid(), source = 'worker',
		updated_at = now() - interval '1 second' WHERE campaign_id = $1 AND recipient_id >= 100`, c)
	exec(`UPDATE deliveries SET state = 'sent', worker_id = NULL, provider_id = 'new', updated_at = now(), claimed_at = updated_at
		WHERE campaign_id = $1 AND recipient_id = 100`, c)
	exec(`UPDATE deliveries SET state = 'sent', worker_id = NULL, provider_id = 'old', updated_at = now()
		WHERE campaign_id = $1 AND recipient_id = 101`, c)
	sentEvents := func(recipient int) int64 {
		t.Helper()
		return count(`SELECT count(*) FROM delivery_events WHERE campaign_id = $1 AND recipient_id = $2 AND state = 'sent'`, c, recipient)
	}
	if held, old := sentEvents(100), sentEvents(101); held != 0 || old != 1 {
		t.Errorf("sent events: %d for the record that keeps its claim's time (want 0), %d for the previous release's (want 1)", held, old)
	}
	if n := count(`SELECT coalesce(sum(n), 0) FROM delivery_minutes WHERE campaign_id = $1 AND outcome = 'sent' AND minute > '2026-12-01 10:00Z'`, c); n != 2 {
		t.Errorf("the chart counts %d of the two sent, want 2", n)
	}

	charted := count(`SELECT sum(n) FROM delivery_minutes WHERE campaign_id = $1`, c)
	migrateDownTo(t, url, 25)
	if held := count(`SELECT count(*) FROM delivery_events WHERE campaign_id = $1 AND recipient_id = 100 AND state = 'sent'
		AND started_at IS NOT NULL AND at > started_at`, c); held != 1 {
		t.Errorf("after going down: %d sent events for the held entry, want 1 with its claim's time", held)
	}
	if n := count(`SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND claimed_at IS NOT NULL`, c); n != 0 {
		t.Errorf("after going down: %d deliveries still hold their sent entry, want 0 (it is an event now)", n)
	}
	// Up again: the chart's counters are counted afresh from the events, not added to.
	migrateTo(t, url, 26)
	if n := count(`SELECT sum(n) FROM delivery_minutes WHERE campaign_id = $1`, c); n != charted {
		t.Errorf("after going down and up again the chart counts %d, want %d as before", n, charted)
	}
	migrateDownTo(t, url, 24)
}

// postgres.Migrate starts a database it creates from nothing with sent entries held (no earlier
// release ever ran there), and leaves one that had migrations before as it is — an upgrade, or a
// first migration cut short — until the upgrade is finished.
func TestSentOnDelivery_HeldFromTheStartOnlyOnADatabaseMigrateCreates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before int64 // migrations applied before Migrate runs (0: none)
		held   bool
	}{
		{"created", 0, true},
		{"upgraded", 24, false},
		{"first migration cut short", 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := pgtest.Empty(t)
			if tc.before > 0 {
				migrateTo(t, url, tc.before)
			}
			if _, err := postgres.Migrate(t.Context(), url); err != nil {
				t.Fatal(err)
			}
			conn := connect(t, url)
			var held bool
			if err := conn.QueryRow(t.Context(), `SELECT held FROM sent_record`).Scan(&held); err != nil || held != tc.held {
				t.Errorf("sent_record.held = %v (%v), want %v", held, err, tc.held)
			}
		})
	}
}
