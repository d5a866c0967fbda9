package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// reportList has a customer with both addresses (C1), one with email only (C2) and one with a
// phone only (C3). Suppressions are shared by every campaign: each list's addresses are its own.
func reportList() string {
	n := rand.IntN(10_000_000)
	return fmt.Sprintf(`customer_id,email,phone,name,country
C1,c1.%[1]d@example.com,+5196%07[1]d,Ana,PE
C2,c2.%[1]d@example.com,,Bo,PE
C3,,+5197%07[1]d,Carla,PE
`, n)
}

// sentCampaign is a startedCampaign whose every delivery has been recorded as sent, as the
// engine does it (claim, then record).
func sentCampaign(t *testing.T, db *postgres.DB, policy breach.ChannelPolicy) *breach.Campaign {
	t.Helper()
	c := startedCampaign(t, db, policy)
	worker := uuid.NewString()
	for _, ch := range breach.Channels {
		claims, _, _, err := db.ClaimRange(t.Context(), c.ID, ch, 0, 1<<40, worker, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		var outcomes []breach.Outcome
		for _, cl := range claims {
			outcomes = append(outcomes, breach.Outcome{RecipientID: cl.Recipient.ID, State: breach.DeliverySent, ProviderID: "P" + cl.Recipient.CustomerID})
		}
		if _, err := db.Record(t.Context(), c.ID, ch, worker, outcomes, false); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// startedCampaign creates a campaign of reportList under policy, approves and starts it, and
// plans it: every delivery is queued.
func startedCampaign(t *testing.T, db *postgres.DB, policy breach.ChannelPolicy) *breach.Campaign {
	t.Helper()
	ctx := t.Context()
	c, src, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	c.Channels = policy
	if err := db.CreateCampaign(ctx, c, string(src)); err != nil {
		t.Fatal(err)
	}
	mustImport(t, db, c, reportList())
	if _, err := db.ApproveCampaign(ctx, c.ID, "alice", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(ctx, c.ID, "alice", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	if p, err := db.PlanCampaign(ctx, c.ID, 100); err != nil || !p.Done {
		t.Fatalf("plan = %+v, %v", p, err)
	}
	return c
}

// delivery is one delivery as the record has it, read directly: the store has no method
// returning one.
type delivery struct {
	State, Source, ProviderID, Error string
	Fallback                         bool
	Events                           int
}

func readDelivery(t *testing.T, pool *pgxpool.Pool, c *breach.Campaign, rid int64, ch breach.Channel) (d delivery, ok bool) {
	t.Helper()
	rows, err := pool.Query(t.Context(), `
		SELECT state, source, provider_id, error, fallback,
			(SELECT count(*) FROM delivery_events e WHERE e.campaign_id = d.campaign_id AND e.recipient_id = d.recipient_id AND e.channel = d.channel)
				+ (d.state = 'sent' AND d.claimed_at IS NOT NULL)::int -- the sent entry a delivery holds (migration 00025)
		FROM deliveries d WHERE campaign_id = $1 AND recipient_id = $2 AND channel = $3`, c.ID, rid, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		return d, false
	}
	if err := rows.Scan(&d.State, &d.Source, &d.ProviderID, &d.Error, &d.Fallback, &d.Events); err != nil {
		t.Fatal(err)
	}
	return d, true
}

func suppressed(t *testing.T, pool *pgxpool.Pool, ch breach.Channel, address string) (source, reason string, ok bool) {
	t.Helper()
	err := pool.QueryRow(t.Context(), `SELECT source, reason FROM suppressions WHERE channel = $1 AND address = $2`, ch, address).Scan(&source, &reason)
	return source, reason, err == nil
}

func rawPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestApplyReport_IdempotentAndOrderSafe(t *testing.T) {
	db, pool := open(t), rawPool(t)
	c := sentCampaign(t, db, breach.Both)
	r := recipient(t, db, c, "C2")
	apply := func(state breach.DeliveryState, errText string) bool {
		t.Helper()
		changed, err := db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelEmail, State: state, Error: errText})
		if err != nil {
			t.Fatal(err)
		}
		return changed
	}
	before, _ := readDelivery(t, pool, c, r.ID, breach.ChannelEmail)
	if before.State != "sent" {
		t.Fatalf("set-up: delivery %+v, want sent", before)
	}
	if !apply(breach.DeliveryDelivered, "") {
		t.Error("delivered over sent did not apply")
	}
	if apply(breach.DeliveryDelivered, "") {
		t.Error("a duplicate delivered report changed the delivery")
	}
	d, _ := readDelivery(t, pool, c, r.ID, breach.ChannelEmail)
	if d.State != "delivered" || d.Source != "webhook" || d.Events != before.Events+1 || d.ProviderID != "PC2" {
		t.Errorf("after delivered twice: %+v; want delivered by webhook, one more event, the worker's provider ID kept", d)
	}
	if !apply(breach.DeliveryBounced, "ses bounce: Permanent/General (5.1.1)") {
		t.Error("a bounce after delivered did not apply (mail servers accept, then bounce)")
	}
	if apply(breach.DeliveryDelivered, "") || apply(breach.DeliveryFailed, "late") || apply(breach.DeliveryBounced, "again") {
		t.Error("a late or duplicate report changed a bounced delivery")
	}
	d, _ = readDelivery(t, pool, c, r.ID, breach.ChannelEmail)
	if d.State != "bounced" || d.Error != "ses bounce: Permanent/General (5.1.1)" || d.Events != before.Events+2 {
		t.Errorf("after the late reports: %+v; want bounced with the first bounce's reason, two events in all", d)
	}
	var counted int64
	if err := pool.QueryRow(t.Context(), `SELECT sum(n) FROM delivery_counts WHERE campaign_id = $1 AND channel = 'email' AND state = 'bounced'`,
		c.ID).Scan(&counted); err != nil || counted != 1 {
		t.Errorf("delivery_counts has %d bounced emails (%v), want 1", counted, err)
	}
}

func TestApplyReport_ReportOvertakingTheWorkersRecordWins(t *testing.T) {
	db, pool := open(t), rawPool(t)
	c := startedCampaign(t, db, breach.Both)
	r := recipient(t, db, c, "C3")
	// A report for a queued delivery is about an earlier attempt whose answer was lost: its
	// failure leaves the retry to the worker.
	if changed, err := db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelSMS,
		State: breach.DeliveryFailed}); err != nil || changed {
		t.Fatalf("failed over queued: %v, %v; want no change", changed, err)
	}
	worker := uuid.NewString()
	claims, _, _, err := db.ClaimRange(t.Context(), c.ID, breach.ChannelSMS, r.ID, r.ID+1, worker, false, 0)
	if err != nil || len(claims) != 1 {
		t.Fatalf("claim: %d claims, %v", len(claims), err)
	}
	changed, err := db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelSMS,
		State: breach.DeliveryDelivered, ProviderID: "SM123"})
	if err != nil || !changed {
		t.Fatalf("delivered over sending: %v, %v", changed, err)
	}
	if _, err := db.Record(t.Context(), c.ID, breach.ChannelSMS, worker, []breach.Outcome{{RecipientID: r.ID, State: breach.DeliverySent, ProviderID: "SM123"}}, false); err != nil {
		t.Fatal(err)
	}
	if d, _ := readDelivery(t, pool, c, r.ID, breach.ChannelSMS); d.State != "delivered" {
		t.Errorf("the worker's late record turned a delivered SMS into %s", d.State)
	}
}

func TestApplyReport_PermanentFailureSuppressesTheRecordsAddressAndFallsBack(t *testing.T) {
	db, pool := open(t), rawPool(t)
	c := sentCampaign(t, db, breach.EmailFirst)
	r := recipient(t, db, c, "C1")
	if _, ok := readDelivery(t, pool, c, r.ID, breach.ChannelSMS); ok {
		t.Fatal("set-up: C1 already has an SMS under email_first")
	}
	changed, err := db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelEmail,
		State: breach.DeliveryBounced, Error: "bounce: 5.1.1", Suppress: true})
	if err != nil || !changed {
		t.Fatalf("bounce: %v, %v", changed, err)
	}
	if source, reason, ok := suppressed(t, pool, breach.ChannelEmail, r.Email); !ok || source != "webhook" || reason != "bounce: 5.1.1" {
		t.Errorf("suppression of the bounced address: %q %q %v", source, reason, ok)
	}
	sms, ok := readDelivery(t, pool, c, r.ID, breach.ChannelSMS)
	if !ok || sms.State != "queued" || !sms.Fallback {
		t.Errorf("fallback SMS = %+v, %v; want queued as a fallback", sms, ok)
	}
	// Again: the suppression and the fallback exist once.
	if changed, err := db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelEmail,
		State: breach.DeliveryBounced, Error: "bounce: other", Suppress: true}); err != nil || changed {
		t.Errorf("duplicate bounce: %v, %v", changed, err)
	}
	if _, reason, _ := suppressed(t, pool, breach.ChannelEmail, r.Email); reason != "bounce: 5.1.1" {
		t.Errorf("the duplicate replaced the suppression's reason with %q", reason)
	}
}

func TestApplyReport_NoFallbackUnderBothOrOnceTheCampaignIsOver(t *testing.T) {
	db, pool := open(t), rawPool(t)
	both := sentCampaign(t, db, breach.Both)
	over := sentCampaign(t, db, breach.EmailFirst)
	if _, err := db.MoveCampaign(t.Context(), over.ID, "alice", "", breach.CampaignCancelled); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*breach.Campaign{both, over} {
		r := recipient(t, db, c, "C2")
		if changed, err := db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelEmail,
			State: breach.DeliveryFailed, Error: "failed"}); err != nil || !changed {
			t.Fatalf("%s: failure report: %v, %v", c.Channels, changed, err)
		}
		r1 := recipient(t, db, c, "C1")
		before, _ := readDelivery(t, pool, c, r1.ID, breach.ChannelSMS)
		if _, err := db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r1.ID, Channel: breach.ChannelEmail,
			State: breach.DeliveryBounced, Suppress: true}); err != nil {
			t.Fatal(err)
		}
		after, ok := readDelivery(t, pool, c, r1.ID, breach.ChannelSMS)
		if c == over && ok {
			t.Errorf("a cancelled campaign queued a fallback: %+v", after)
		}
		if c == both && (after != before || after.Fallback) {
			t.Errorf("under both, the SMS changed: %+v → %+v", before, after)
		}
	}
}

func TestApplyReport_ComplaintSuppressesAndKeepsDelivered(t *testing.T) {
	db, pool := open(t), rawPool(t)
	c := sentCampaign(t, db, breach.EmailFirst)
	r := recipient(t, db, c, "C2")
	db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelEmail, State: breach.DeliveryDelivered})
	changed, err := db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelEmail,
		Suppress: true, Error: "ses complaint: abuse"})
	if err != nil || changed {
		t.Fatalf("complaint: changed %v, %v; want no state change", changed, err)
	}
	if d, _ := readDelivery(t, pool, c, r.ID, breach.ChannelEmail); d.State != "delivered" {
		t.Errorf("complained-about delivery is %s, want still delivered", d.State)
	}
	if _, reason, ok := suppressed(t, pool, breach.ChannelEmail, r.Email); !ok || reason != "ses complaint: abuse" {
		t.Errorf("complaint suppression: %q, %v", reason, ok)
	}
}

func TestApplyReport_UnknownDeliveriesAreNotFoundAndChangeNothing(t *testing.T) {
	db, pool := open(t), rawPool(t)
	c := sentCampaign(t, db, breach.EmailFirst)
	r := recipient(t, db, c, "C3") // SMS only: no email delivery
	for name, rep := range map[string]breach.Report{
		"other channel":  {CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelEmail, State: breach.DeliveryBounced, Suppress: true},
		"no such sms":    {CampaignID: uuid.NewString(), RecipientID: r.ID, Channel: breach.ChannelSMS, Suppress: true},
		"no recipient":   {CampaignID: c.ID, RecipientID: 1 << 40, Channel: breach.ChannelSMS, State: breach.DeliveryDelivered},
		"no campaign":    {CampaignID: uuid.NewString(), RecipientID: r.ID, Channel: breach.ChannelSMS, State: breach.DeliveryBounced},
		"malformed ID":   {CampaignID: "x'; --", RecipientID: r.ID, Channel: breach.ChannelSMS, State: breach.DeliveryDelivered},
		"complaint only": {CampaignID: uuid.NewString(), RecipientID: r.ID, Channel: breach.ChannelEmail, Suppress: true},
	} {
		if _, err := db.ApplyReport(t.Context(), rep); breach.ErrorCode(err) != breach.ENOTFOUND {
			t.Errorf("%s: err = %v, want ENOTFOUND", name, err)
		}
	}
	if _, _, ok := suppressed(t, pool, breach.ChannelSMS, r.Phone); ok {
		t.Error("a report on no delivery suppressed the recipient's number")
	}
	if _, err := db.ApplyReport(t.Context(), breach.Report{CampaignID: c.ID, RecipientID: r.ID, Channel: breach.ChannelSMS,
		State: breach.DeliverySending}); err == nil {
		t.Error("a report setting a delivery sending was accepted")
	}
}

func TestSuppressAddress_OutsideAnyCampaignOnce(t *testing.T) {
	db, pool := open(t), rawPool(t)
	for range 2 {
		if err := db.SuppressAddress(t.Context(), breach.ChannelSMS, "+51955555555", "inbound-sms", "STOP"); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM suppressions WHERE address = '+51955555555' AND campaign_id IS NULL AND source = 'inbound-sms'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d suppressions (%v), want 1", n, err)
	}
}
