package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// The lean record (migration 00016) writes no event for a delivery queued or claimed; the
// timeline puts them back. A sent notice still shows queued, sending (attempt 1, at its claim)
// and sent; one retried shows both attempts, each sending from its own claim; the proof of
// notice shows the same steps.
func TestRecipientRecord_LeanRecordStillShowsEveryAttempt(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := runningCampaign(t, db, "customer_id,email\nONCE,once@example.com\nTWICE,twice@example.com\n", 10)
	var claimedAt []time.Time
	claimTime := func() {
		t.Helper()
		var at time.Time
		if err := rawPool(t).QueryRow(ctx, `SELECT max(updated_at) FROM deliveries WHERE campaign_id = $1 AND state = 'sending'`,
			c.ID).Scan(&at); err != nil {
			t.Fatal(err)
		}
		claimedAt = append(claimedAt, at)
	}
	// The first attempt: ONCE sent, TWICE refused for now (a retry in a moment).
	worker, claims := claimEmails(t, db, c)
	claimTime()
	var outcomes []breach.Outcome
	for _, cl := range claims {
		o := breach.Outcome{RecipientID: cl.Recipient.ID, State: breach.DeliverySent, ProviderID: "pid-" + cl.Recipient.CustomerID}
		if cl.Recipient.CustomerID == "TWICE" {
			o = breach.Outcome{RecipientID: cl.Recipient.ID, State: breach.DeliveryQueued, Error: "451 4.7.1 try again later",
				NextAttempt: time.Now().Add(-time.Second)}
		}
		outcomes = append(outcomes, o)
	}
	if _, err := db.Record(ctx, c.ID, breach.ChannelEmail, worker, outcomes, false); err != nil {
		t.Fatal(err)
	}
	// A claim still open shows in the timeline too.
	worker, claims = claimEmails(t, db, c)
	if len(claims) != 1 || claims[0].Attempt != 2 {
		t.Fatalf("second claims = %+v, want TWICE's second attempt", claims)
	}
	claimTime()
	rec, err := db.RecipientRecord(ctx, c.ID, "TWICE")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := timeline(rec.Events), "queued/planner/0 sending/worker/1 queued/worker/1 sending/worker/2"; got != want {
		t.Errorf("TWICE while claimed again: timeline %s\nwant                           %s", got, want)
	}
	recordSent(t, db, c, worker, claims[0].Recipient.ID)

	for _, tc := range []struct {
		customer, want string
		claims         []time.Time // the sending entries' times
	}{
		{"ONCE", "queued/planner/0 sending/worker/1 sent/worker/1", claimedAt[:1]},
		{"TWICE", "queued/planner/0 sending/worker/1 queued/worker/1 sending/worker/2 sent/worker/2", claimedAt},
	} {
		rec, err := db.RecipientRecord(ctx, c.ID, tc.customer)
		if err != nil {
			t.Fatal(err)
		}
		if got := timeline(rec.Events); got != tc.want {
			t.Errorf("%s: timeline %s\nwant         %s", tc.customer, got, tc.want)
		}
		var sending []time.Time
		for i, e := range rec.Events {
			if i > 0 && e.At.Before(rec.Events[i-1].At) {
				t.Errorf("%s: event %d at %v is before event %d at %v", tc.customer, i, e.At, i-1, rec.Events[i-1].At)
			}
			if e.State == breach.DeliverySending {
				sending = append(sending, e.At)
			}
		}
		if fmt.Sprint(sending) != fmt.Sprint(tc.claims) {
			t.Errorf("%s: sending at %v, want the claims' times %v", tc.customer, sending, tc.claims)
		}
		if last := rec.Events[len(rec.Events)-1]; last.ProviderID != "pid-"+tc.customer && tc.customer == "ONCE" {
			t.Errorf("%s: the sent event = %+v, want the provider's ID", tc.customer, last)
		}
		if tc.customer == "TWICE" && rec.Events[2].Error != "451 4.7.1 try again later" {
			t.Errorf("TWICE: the retry's event = %+v, want the relay's answer", rec.Events[2])
		}
	}
}

// timeline is events as state/source/attempt, in order.
func timeline(events []breach.DeliveryEvent) string {
	var steps []string
	for _, e := range events {
		steps = append(steps, fmt.Sprintf("%s/%s/%d", e.State, e.Source, e.Attempt))
	}
	return strings.Join(steps, " ")
}

// A notice sent from its claim costs the record its delivery alone (migration 00025): the
// planner's queueing, the worker's claim and the sent write no event; the delivery holds the
// sent entry, with its claim's time, and the counts and the chart still count it.
func TestRecord_SentNoticeWritesNoEventRow(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	var list strings.Builder
	list.WriteString("customer_id,email\n")
	const n = 40
	for i := range n {
		fmt.Fprintf(&list, "E%d,e%d@example.com\n", i, i)
	}
	c := runningCampaign(t, db, list.String(), 15)
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, false, sent)
	var deliveries, held, events, charted int
	if err := rawPool(t).QueryRow(ctx, `SELECT
		(SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND state = 'sent'),
		(SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND state = 'sent' AND claimed_at < updated_at),
		(SELECT count(*) FROM delivery_events WHERE campaign_id = $1),
		(SELECT coalesce(sum(n), 0) FROM delivery_minutes WHERE campaign_id = $1 AND channel = 'email' AND outcome = 'sent')`, c.ID,
	).Scan(&deliveries, &held, &events, &charted); err != nil {
		t.Fatal(err)
	}
	if deliveries != n || held != n || events != 0 {
		t.Errorf("%d notices sent: %d hold their sent entry with its claim's time, %d event rows; want all and none", deliveries, held, events)
	}
	if charted != n {
		t.Errorf("the chart counts %d sent, want %d", charted, n)
	}
	s, err := db.CampaignStatus(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ByChannel[breach.ChannelEmail]; got[breach.DeliverySent] != n || got[breach.DeliveryQueued] != 0 || got[breach.DeliverySending] != 0 {
		t.Errorf("status counts %v, want %d sent and nothing queued or sending", got, n)
	}
}

// A delivery that holds its sent entry and then moves on — the provider reports it bounced —
// has the entry written as an event first: the timeline still shows it sent, at the same time
// with the same claim, then bounced; and the chart counts it once sent and once bounced.
func TestRecord_HeldSentEntrySurvivesABounce(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := runningCampaign(t, db, "customer_id,email\nB1,b1@example.com\n", 10)
	worker, claims := claimEmails(t, db, c)
	if len(claims) != 1 {
		t.Fatalf("claims = %+v, want one", claims)
	}
	recordSent(t, db, c, worker, claims[0].Recipient.ID)
	before, err := db.RecipientRecord(ctx, c.ID, "B1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := timeline(before.Events), "queued/planner/0 sending/worker/1 sent/worker/1"; got != want {
		t.Fatalf("timeline before the bounce %s\nwant                       %s", got, want)
	}
	if _, err := db.ApplyReport(ctx, breach.Report{CampaignID: c.ID, RecipientID: claims[0].Recipient.ID,
		Channel: breach.ChannelEmail, State: breach.DeliveryBounced, Error: "550 5.1.1 no such user"}); err != nil {
		t.Fatal(err)
	}
	after, err := db.RecipientRecord(ctx, c.ID, "B1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := timeline(after.Events), "queued/planner/0 sending/worker/1 sent/worker/1 bounced/webhook/1"; got != want {
		t.Fatalf("timeline after the bounce %s\nwant                      %s", got, want)
	}
	for i := range 3 {
		b, a := before.Events[i], after.Events[i]
		if !b.At.Equal(a.At) || b.State != a.State || b.ProviderID != a.ProviderID {
			t.Errorf("entry %d was %+v before the bounce, %+v after", i, b, a)
		}
	}
	var sentEvents, charted int
	if err := rawPool(t).QueryRow(ctx, `SELECT
		(SELECT count(*) FROM delivery_events WHERE campaign_id = $1 AND state = 'sent' AND started_at IS NOT NULL),
		(SELECT coalesce(sum(n), 0) FROM delivery_minutes WHERE campaign_id = $1 AND channel = 'email')`, c.ID,
	).Scan(&sentEvents, &charted); err != nil {
		t.Fatal(err)
	}
	if sentEvents != 1 || charted != 2 {
		t.Errorf("after the bounce: %d sent events (want 1, written as it moved on), the chart counts %d (want 2: sent, bounced)",
			sentEvents, charted)
	}
}

// During an upgrade the previous release still runs: its planner inserts queued deliveries
// without queued_at and its workers claim without knowing of the lean record. Its deliveries
// keep their queued event (nothing else says when they were queued), its claims write none,
// and the timeline shows each step once.
func TestRecord_PreviousReleasePlannerAndClaimKeepTheTimelineWhole(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := newCampaignWithList(t, db, "customer_id,email\nOLD,old@example.com\n")
	// The previous release's planner statement, as migrations/testdata keeps it: no queued_at.
	if _, err := rawPool(t).Exec(ctx, `INSERT INTO deliveries (campaign_id, recipient_id, channel, state, source, error, locale)
		SELECT campaign_id, id, 'email', 'queued', 'planner', '', '' FROM recipients WHERE campaign_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	// Its claim: queued → sending, without touching queued_at or not_before.
	if _, err := rawPool(t).Exec(ctx, `UPDATE deliveries SET state = 'sending', attempts = attempts + 1,
		worker_id = gen_random_uuid(), source = 'worker', updated_at = now() WHERE campaign_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := rawPool(t).Exec(ctx, `UPDATE deliveries SET state = 'sent', worker_id = NULL, provider_id = 'pid-OLD',
		updated_at = now() WHERE campaign_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	rec, err := db.RecipientRecord(ctx, c.ID, "OLD")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := timeline(rec.Events), "queued/planner/0 sending/worker/1 sent/worker/1"; got != want {
		t.Errorf("timeline %s\nwant     %s", got, want)
	}
	s, err := db.CampaignStatus(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ByChannel[breach.ChannelEmail]; got[breach.DeliverySent] != 1 || got[breach.DeliveryQueued] != 0 || got[breach.DeliverySending] != 0 {
		t.Errorf("status counts %v, want 1 sent", got)
	}
}

// newCampaignWithList is a running campaign of list, not planned yet.
func newCampaignWithList(t *testing.T, db *postgres.DB, list string) *breach.Campaign {
	t.Helper()
	c := newCampaign(t, db)
	mustImport(t, db, c, list)
	if _, err := db.ApproveCampaign(t.Context(), c.ID, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(t.Context(), c.ID, "starter", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	return c
}

// Until the upgrade is finished (a process of the previous release may still read the record,
// and it reads sent notices from events only), a notice sent keeps its sent event, with its
// claim's time, and holds nothing on its delivery; FinishUpgrade then lets deliveries hold
// them. (A database Migrate creates, as this package's, starts finished.)
func TestRecord_UntilTheUpgradeFinishesASentNoticeKeepsItsEvent(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	pool := rawPool(t)
	setHeld := func(ctx context.Context, held bool) {
		t.Helper()
		if _, err := pool.Exec(ctx, `UPDATE sent_record SET held = $1`, held); err != nil {
			t.Fatal(err)
		}
	}
	setHeld(ctx, false)
	t.Cleanup(func() { setHeld(context.Background(), true) })
	c := runningCampaign(t, db, "customer_id,email\nU1,u1@example.com\nU2,u2@example.com\n", 10)
	pgtest.Send(t, db, c.ID, breach.ChannelEmail, false, sent)
	held, sentEvents := heldAndSentEvents(t, c)
	if held != 0 || sentEvents != 2 {
		t.Errorf("before the upgrade is finished: %d deliveries hold their sent entry (want 0), %d sent events with their claim's time (want 2)",
			held, sentEvents)
	}
	rec, err := db.RecipientRecord(ctx, c.ID, "U1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := timeline(rec.Events), "queued/planner/0 sending/worker/1 sent/worker/1"; got != want {
		t.Errorf("timeline %s\nwant     %s", got, want)
	}
	if err := db.FinishUpgrade(ctx, "cli:tester"); err != nil {
		t.Fatal(err)
	}
	var now bool
	if err := pool.QueryRow(ctx, `SELECT held FROM sent_record`).Scan(&now); err != nil || !now {
		t.Errorf("after FinishUpgrade sent_record.held = %v (%v), want true", now, err)
	}
}

// Before a rollback to the previous release (which reads sent notices from events only),
// PrepareRollback writes the sent entries deliveries hold as events and stops holding them:
// every sent notice then has its event, the timeline is as it was, and a notice sent after
// it gets its event again.
func TestRecord_PrepareRollbackGivesEverySentNoticeItsEvent(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	t.Cleanup(func() {
		if err := db.FinishUpgrade(context.Background(), "cli:tester"); err != nil {
			t.Error(err)
		}
	})
	c := runningCampaign(t, db, "customer_id,email\nR1,r1@example.com\nR2,r2@example.com\n", 1)
	worker, claims := claimEmails(t, db, c)
	if len(claims) != 2 {
		t.Fatalf("claims = %+v, want two", claims)
	}
	recordSent(t, db, c, worker, claims[0].Recipient.ID)
	before, err := db.RecipientRecord(ctx, c.ID, claims[0].Recipient.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PrepareRollback(ctx, "cli:tester"); err != nil {
		t.Fatal(err)
	}
	var audited int
	if err := rawPool(t).QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'upgrade.rollback'
		AND actor = 'cli:tester' AND (detail->>'events_written')::int >= 1`).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("%d audit rows of the rollback (%v), want 1 saying how many events it wrote", audited, err)
	}
	recordSent(t, db, c, worker, claims[1].Recipient.ID)
	held, sentEvents := heldAndSentEvents(t, c)
	if held != 0 || sentEvents != 2 {
		t.Errorf("after PrepareRollback: %d deliveries hold a sent entry (want 0), %d sent events with their claim's time (want 2)",
			held, sentEvents)
	}
	after, err := db.RecipientRecord(ctx, c.ID, claims[0].Recipient.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if timeline(after.Events) != timeline(before.Events) || len(after.Events) != len(before.Events) {
		t.Fatalf("timeline %s after PrepareRollback, %s before", timeline(after.Events), timeline(before.Events))
	}
	for i := range before.Events {
		if b, a := before.Events[i], after.Events[i]; !b.At.Equal(a.At) || b.ProviderID != a.ProviderID {
			t.Errorf("entry %d was %+v, is %+v", i, b, a)
		}
	}
}

// The chart counts what the engine sent and failed, not what an operator's cancellation
// failed at once: of three notices claimed, one sent, one failed, one released and then
// cancelled, it counts one of each.
func TestRecord_TheChartLeavesACancellationOut(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := runningCampaign(t, db, "customer_id,email\nK1,k1@example.com\nK2,k2@example.com\nK3,k3@example.com\n", 10)
	worker, claims := claimEmails(t, db, c)
	if len(claims) != 3 {
		t.Fatalf("claims = %+v, want three", claims)
	}
	if _, err := db.Record(ctx, c.ID, breach.ChannelEmail, worker, []breach.Outcome{
		{RecipientID: claims[0].Recipient.ID, State: breach.DeliverySent, ProviderID: "<k1@x>"},
		{RecipientID: claims[1].Recipient.ID, State: breach.DeliveryFailed, Error: "550 5.1.1 no such user"},
	}, false); err != nil {
		t.Fatal(err)
	}
	if err := db.Release(ctx, c.ID, breach.ChannelEmail, worker, []int64{claims[2].Recipient.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(ctx, c.ID, "operator", breach.CampaignRunning, breach.CampaignCancelled); err != nil {
		t.Fatal(err)
	}
	var sentN, failedN, failedDeliveries int64
	if err := rawPool(t).QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(n), 0) FROM delivery_minutes WHERE campaign_id = $1 AND outcome = 'sent'),
		(SELECT coalesce(sum(n), 0) FROM delivery_minutes WHERE campaign_id = $1 AND outcome = 'failed'),
		(SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND state = 'failed')`, c.ID,
	).Scan(&sentN, &failedN, &failedDeliveries); err != nil {
		t.Fatal(err)
	}
	if failedDeliveries != 2 {
		t.Fatalf("set-up: %d failed deliveries, want 2 (one by the relay, one by the cancellation)", failedDeliveries)
	}
	if sentN != 1 || failedN != 1 {
		t.Errorf("the chart counts %d sent and %d failed, want 1 and 1 (the cancellation's failure left out)", sentN, failedN)
	}
}

// heldAndSentEvents counts c's deliveries holding their sent entry and its sent events that
// carry their claim's time.
func heldAndSentEvents(t *testing.T, c *breach.Campaign) (held, sentEvents int) {
	t.Helper()
	if err := rawPool(t).QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND claimed_at IS NOT NULL),
		(SELECT count(*) FROM delivery_events WHERE campaign_id = $1 AND state = 'sent' AND started_at < at)`, c.ID,
	).Scan(&held, &sentEvents); err != nil {
		t.Fatal(err)
	}
	return held, sentEvents
}
