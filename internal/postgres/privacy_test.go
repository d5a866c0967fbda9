package postgres_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

var proofSecret = []byte("privacy-test-secret-privacy-test!")

// privacyList has a customer with both addresses, one with an email only, one with a phone
// only, and a row rejected for its country (the reject keeps the raw row's customer ID).
const privacyList = `customer_id,name,email,phone,country,plan
P1,Wilhelmina Quist,wilhelmina.quist@example.org,+51987650001,PE,gold
P2,Bartholomew Oyelaran,bartholomew.oyelaran@example.net,,PE,silver
P3,Xiomara Pendergast,,+51987650003,PE,bronze
P4,Reject Row,reject.row@example.org,,Atlantis,
`

// addressesOf are privacyList's personal data, which a purge must remove from every table.
var addressesOf = []string{"Wilhelmina", "Quist", "wilhelmina.quist@example.org", "+51987650001", "51987650001",
	"Bartholomew", "bartholomew.oyelaran@example.net", "Xiomara", "+51987650003", "gold", "Atlantis", "reject.row"}

// finishedCampaign runs a campaign over privacyList to completion: P1's and P3's notices sent,
// P2's email failed with an SMTP reply that quotes the address (and a second address).
func finishedCampaign(t *testing.T, db *postgres.DB) *breach.Campaign {
	t.Helper()
	ctx := t.Context()
	c := newCampaign(t, db)
	imp := mustImport(t, db, c, privacyList)
	if imp.Accepted != 3 || imp.Rejected != 1 {
		t.Fatalf("import = %+v, want 3 accepted and 1 rejected", imp)
	}
	if _, err := db.ApproveCampaign(ctx, c.ID, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(ctx, c.ID, "starter", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	pgtest.PlanAll(t, db, c.ID, 1000)
	for _, ch := range breach.Channels {
		pgtest.Send(t, db, c.ID, ch, false, func(cl breach.Claim) *breach.Outcome {
			if cl.Recipient.CustomerID == "P2" {
				return &breach.Outcome{State: breach.DeliveryFailed,
					Error: "550 5.1.1 <" + cl.Recipient.Email + ">: user unknown (forwarded from Bartholomew.Oyelaran@Example.NET)"}
			}
			return &breach.Outcome{State: breach.DeliverySent, ProviderID: "pid-" + cl.Recipient.CustomerID}
		})
	}
	if done, err := db.CompleteIfDone(ctx, c.ID); err != nil || !done {
		t.Fatalf("CompleteIfDone = %v, %v", done, err)
	}
	return c
}

// dump returns every text of the tables that may hold a campaign's personal data.
func dump(t *testing.T, id string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var b strings.Builder
	for _, q := range []string{
		`SELECT r::text FROM recipients r WHERE campaign_id = $1`,
		`SELECT d::text FROM deliveries d WHERE campaign_id = $1`,
		`SELECT e::text FROM delivery_events e WHERE campaign_id = $1`,
		`SELECT j::text FROM import_rejects j JOIN imports i ON i.id = j.import_id WHERE i.campaign_id = $1`,
		`SELECT i::text FROM imports i WHERE campaign_id = $1`,
		`SELECT a::text FROM audit_log a WHERE campaign_id = $1`,
		// The suppression list keeps its addresses, but none may still point at the campaign.
		`SELECT s::text FROM suppressions s WHERE campaign_id = $1`,
	} {
		rows, err := conn.Query(t.Context(), q, id)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(strings.Join(texts, "\n"))
	}
	return b.String()
}

func TestPurge_RefusesCampaignsThatHaveNotFinished(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	mustImport(t, db, c, privacyList)
	_, err := db.PurgeCampaign(t.Context(), c.ID, "op", proofSecret)
	if breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(breach.ErrorMessage(err), "completed or cancelled") {
		t.Errorf("purge of a draft: %v; want ECONFLICT naming what can be purged", err)
	}
	if _, err := db.ApproveCampaign(t.Context(), c.ID, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveCampaign(t.Context(), c.ID, "op", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		t.Fatal(err)
	}
	_, err = db.PurgeCampaign(t.Context(), c.ID, "op", proofSecret)
	if breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(breach.ErrorMessage(err), "running") {
		t.Errorf("purge of a running campaign: %v; want ECONFLICT saying it is running", err)
	}
	if r := recipient(t, db, c, "P1"); r.Email != "wilhelmina.quist@example.org" || r.Name != "Wilhelmina Quist" || r.Purged {
		t.Errorf("a refused purge changed P1: %+v", r)
	}
	if _, err := db.PurgeCampaign(t.Context(), uuid.NewString(), "op", proofSecret); breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Errorf("purge of an unknown campaign: %v; want ENOTFOUND", err)
	}
}

func TestPurge_RemovesEveryAddressKeepsCountsRecordAndProof(t *testing.T) {
	db := open(t)
	c := finishedCampaign(t, db)
	before := dump(t, c.ID)
	for _, pii := range []string{"wilhelmina.quist@example.org", "Bartholomew.Oyelaran@Example.NET", "Atlantis"} {
		if !strings.Contains(before, pii) {
			t.Fatalf("the campaign's tables lack %q before the purge: the test proves nothing", pii)
		}
	}
	// An address of this test's own: the suppression list is shared by every campaign.
	optedOut := "opted.out." + c.ID + "@example.org"
	if err := db.Suppress(t.Context(), breach.ChannelEmail, optedOut, "optout", "one-click", c.ID); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dump(t, c.ID), optedOut) {
		t.Fatal("the dump does not show the campaign's suppressions: the test proves nothing")
	}
	statusBefore, err := db.CampaignStatus(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}

	rep, err := db.PurgeCampaign(t.Context(), c.ID, "token:legal", proofSecret)
	if err != nil {
		t.Fatal(err)
	}
	if rep.AlreadyPurged || rep.Recipients != 3 || rep.Rejects != 1 || rep.PurgedBy != "token:legal" || rep.PurgedAt.IsZero() {
		t.Errorf("report = %+v, want 3 recipients and 1 reject purged by token:legal", rep)
	}

	after := dump(t, c.ID)
	if strings.Contains(after, optedOut) {
		t.Error("a suppression still names the purged campaign")
	}
	for _, pii := range addressesOf {
		if strings.Contains(strings.ToLower(after), strings.ToLower(pii)) {
			t.Errorf("%q is still in the campaign's tables after the purge", pii)
		}
	}
	for _, kept := range []string{"P1", "P2", "P3", "pid-P1", "pid-P3", "550 5.1.1", "user unknown"} {
		if !strings.Contains(after, kept) {
			t.Errorf("%q was lost: customer IDs, provider IDs and the errors' status must stay", kept)
		}
	}
	statusAfter, err := db.CampaignStatus(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(statusAfter.ByChannel)
	b, _ := json.Marshal(statusBefore.ByChannel)
	if string(a) != string(b) || statusAfter.Total != 3 || statusAfter.Total != statusBefore.Total {
		t.Errorf("status after purge = %s (total %d), before %s (total %d)", a, statusAfter.Total, b, statusBefore.Total)
	}

	got, err := db.Campaign(t.Context(), c.ID)
	if err != nil || got.PurgedAt == nil || got.PurgedBy != "token:legal" {
		t.Fatalf("campaign after purge: %+v, %v; want purged_at and purged_by", got, err)
	}
	r := recipient(t, db, c, "P1")
	if !r.Purged || r.Email != "" || r.Phone != "" || r.Name != "" || len(r.Attributes) != 0 ||
		len(r.EmailProof) != 64 || len(r.PhoneProof) != 64 {
		t.Errorf("P1 after purge = %+v; want no personal data and both proofs", r)
	}
	if r := recipient(t, db, c, "P2"); r.PhoneProof != "" || r.EmailProof == "" {
		t.Errorf("P2 (email only) proofs = %q, %q; want an email proof only", r.EmailProof, r.PhoneProof)
	}
}

func TestPurge_ProofVerifiesTheRightAddressOnly(t *testing.T) {
	db := open(t)
	c := finishedCampaign(t, db)
	if _, err := db.NoticeProof(t.Context(), c.ID, breach.ChannelEmail, "wilhelmina.quist@example.org", proofSecret); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("proof before the purge: %v; want ECONFLICT (the record shows the address itself)", err)
	}
	if _, err := db.PurgeCampaign(t.Context(), c.ID, "op", proofSecret); err != nil {
		t.Fatal(err)
	}
	p, err := db.NoticeProof(t.Context(), c.ID, breach.ChannelEmail, "wilhelmina.quist@example.org", proofSecret)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Matched || p.CustomerID != "P1" || len(p.Deliveries) != 1 || p.Deliveries[0].State != breach.DeliverySent ||
		p.Deliveries[0].ProviderID != "pid-P1" || len(p.Deliveries[0].Events) < 3 {
		t.Errorf("proof of P1's email = %+v; want P1's sent email with its events", p)
	}
	p, err = db.NoticeProof(t.Context(), c.ID, breach.ChannelSMS, "+51987650003", proofSecret)
	if err != nil || !p.Matched || p.CustomerID != "P3" {
		t.Errorf("proof of P3's phone = %+v, %v; want P3", p, err)
	}
	for _, tt := range []struct {
		ch      breach.Channel
		address string
		secret  []byte
	}{
		{breach.ChannelEmail, "wilhelmina.quist@example.com", proofSecret}, // another address
		{breach.ChannelSMS, "wilhelmina.quist@example.org", proofSecret},   // the right address, the wrong channel
		{breach.ChannelSMS, "+51987650002", proofSecret},                   // a number nobody had
		{breach.ChannelEmail, "wilhelmina.quist@example.org", []byte("another-secret-another-secret-!!")},
	} {
		p, err := db.NoticeProof(t.Context(), c.ID, tt.ch, tt.address, tt.secret)
		if err != nil || p.Matched || p.CustomerID != "" {
			t.Errorf("proof of %s %s = %+v, %v; want no match", tt.ch, tt.address, p, err)
		}
	}
}

func TestPurge_SecondPurgeIsANoOpAnswer(t *testing.T) {
	db := open(t)
	c := finishedCampaign(t, db)
	first, err := db.PurgeCampaign(t.Context(), c.ID, "op-one", proofSecret)
	if err != nil {
		t.Fatal(err)
	}
	second, err := db.PurgeCampaign(t.Context(), c.ID, "op-two", proofSecret)
	if err != nil {
		t.Fatal(err)
	}
	if !second.AlreadyPurged || second.PurgedBy != "op-one" || !second.PurgedAt.Equal(first.PurgedAt) || second.Recipients != 0 {
		t.Errorf("second purge = %+v; want already purged by op-one at %v", second, first.PurgedAt)
	}
	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: c.ID, Action: "campaign.purge"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "op-one" {
		t.Errorf("purge audit entries = %+v, %v; want one, by op-one", entries, err)
	}
}

func TestPurge_InterruptedPurgeResumes(t *testing.T) {
	db := open(t)
	c := finishedCampaign(t, db)
	// A crash after the first batches: some recipients purged, the campaign not yet marked.
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `
		UPDATE recipients SET email = NULL, phone = NULL, name = '', attributes = '{}', purged_at = now()
		WHERE campaign_id = $1 AND customer_id = 'P2'`, c.ID); err != nil {
		t.Fatal(err)
	}
	rep, err := db.PurgeCampaign(t.Context(), c.ID, "op", proofSecret)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recipients != 2 || rep.AlreadyPurged {
		t.Errorf("resumed purge = %+v; want the 2 recipients left", rep)
	}
	if r := recipient(t, db, c, "P1"); !r.Purged || r.Email != "" {
		t.Errorf("P1 after the resumed purge = %+v", r)
	}
}

func TestPurge_RetentionPurgesOnlyExpiredFinishedCampaigns(t *testing.T) {
	db := open(t)
	expired := finishedCampaign(t, db)
	recent := finishedCampaign(t, db)
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// The example campaign keeps its data 365 days.
	if _, err := conn.Exec(t.Context(), `UPDATE campaigns SET finished_at = now() - interval '366 days' WHERE id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}
	reports, err := db.PurgeExpired(t.Context(), "system:retention", proofSecret)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || reports[0].CampaignID != expired.ID || reports[0].PurgedBy != "system:retention" {
		t.Fatalf("retention purged %+v; want only campaign %s", reports, expired.ID)
	}
	if c, _ := db.Campaign(t.Context(), recent.ID); c.Purged() {
		t.Error("a campaign finished today was purged")
	}
	if again, err := db.PurgeExpired(t.Context(), "system:retention", proofSecret); err != nil || len(again) != 0 {
		t.Errorf("second sweep = %+v, %v; want nothing to do", again, err)
	}
	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: expired.ID, Action: "campaign.purge"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "system:retention" {
		t.Errorf("audit of the automatic purge = %+v, %v", entries, err)
	}
}

func TestAuditLog_IsAppendOnly(t *testing.T) {
	db := open(t)
	if err := db.Audit(t.Context(), "op", "test.append_only", "", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, stmt := range []string{
		`UPDATE audit_log SET actor = 'someone else' WHERE action = 'test.append_only'`,
		`DELETE FROM audit_log WHERE action = 'test.append_only'`,
		`TRUNCATE audit_log`,
	} {
		_, err := conn.Exec(t.Context(), stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v; want it refused as append-only", stmt, err)
		}
	}
	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{Action: "test.append_only"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "op" {
		t.Errorf("after the attempts: %+v, %v; want the entry unchanged", entries, err)
	}
}

func TestAuditLog_RecordsEachActionOnACampaign(t *testing.T) {
	db := open(t)
	c := finishedCampaign(t, db)
	if _, err := db.PurgeCampaign(t.Context(), c.ID, "op", proofSecret); err != nil {
		t.Fatal(err)
	}
	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: c.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i, e := range entries {
		actions = append(actions, e.Action)
		if i > 0 && e.ID >= entries[i-1].ID {
			t.Errorf("entries not newest first: %d after %d", e.ID, entries[i-1].ID)
		}
	}
	want := "campaign.purge campaign.complete campaign.start campaign.approve"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit of the campaign = %q, want %q", got, want)
	}
	var detail map[string]int
	if err := json.Unmarshal(entries[0].Detail, &detail); err != nil || detail["recipients"] != 3 || detail["rejects"] != 1 {
		t.Errorf("purge detail = %s, %v", entries[0].Detail, err)
	}
	_, err = db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: "not-a-uuid"})
	if breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("filter by a malformed campaign ID: %v, want EINVALID", err)
	}
}

// warnedList is a list whose rows are kept with warnings that quote personal data (the
// campaign's default country is FR): W1's phone reads as a number both in Switzerland, its
// country, and in France (the warning quotes it as written and both readings); W2's address in
// a column only a weak alias names as the email ("E-mail Address") is unreadable (the warning
// quotes it); W3 is on two rows with different names (the warning quotes the customer_id).
const warnedList = `customer_id,name,E-mail Address,phone,country
W1,Heidi Zwingli,heidi.zwingli@example.ch,079 123 45 67,CH
W2,Greta Vonarx,greta.vonarx(at)example.ch,+33612345678,FR
W3,Wendel Ott,,+33612340001,FR
W3,Wendelin Ott,,+33612340002,FR
`

// warnedValues are what warnedList's warnings quote of its rows, in any of their forms.
var warnedValues = []string{"079 123 45 67", "791234567", "greta.vonarx", "heidi.zwingli", "Zwingli", "Vonarx",
	"Wendel", "612345678", "612340001", "612340002"}

// campaignRows returns, one row a line, every row that names the campaign: its own, those of
// every table with a campaign_id column (found in the catalog, so that a table added later is
// searched too), and its imports' rejected rows.
func campaignRows(t *testing.T, id string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `
		SELECT c.relname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
			AND a.attname = 'campaign_id' AND NOT a.attisdropped
		ORDER BY c.relname`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "imports") || !slices.Contains(tables, "recipients") {
		t.Fatalf("tables with a campaign_id: %v; the catalog query misses some", tables)
	}
	queries := []string{
		`SELECT x::text FROM campaigns x WHERE id = $1`,
		`SELECT j::text FROM import_rejects j JOIN imports i ON i.id = j.import_id WHERE i.campaign_id = $1`,
	}
	for _, table := range tables {
		queries = append(queries, `SELECT x::text FROM `+pgx.Identifier{table}.Sanitize()+` x WHERE campaign_id = $1`)
	}
	var b strings.Builder
	for _, q := range queries {
		rows, err := conn.Query(t.Context(), q, id)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// An import's warnings quote the values they are about; a purge keeps each warning's line and
// field, and the count, and removes the reasons, which `campaign show` returned after the purge.
func TestPurge_RemovesTheValuesImportWarningsQuote(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := newCampaign(t, db)
	c.DefaultCountry = "FR"
	imp := mustImport(t, db, c, warnedList)
	if imp.Rejected != 0 || imp.Accepted != 3 || imp.Merged != 1 || imp.Warned != 3 {
		t.Fatalf("import = %+v, want 3 customers accepted, 1 row merged, 3 warned, none rejected", imp)
	}
	type warning struct {
		line  int64
		field string
	}
	var want []warning
	for _, w := range imp.Warnings {
		want = append(want, warning{w.Line, w.Field})
	}
	before := campaignRows(t, c.ID)
	// The warnings quote the phone as written and its readings, the unreadable address, the
	// repeated customer's ID: without them the test proves nothing.
	for _, quoted := range []string{"079 123 45 67", "+41791234567", "+33791234567", "greta.vonarx(at)example.ch", "is on several rows"} {
		if !strings.Contains(before, quoted) {
			t.Fatalf("the campaign's rows lack %q before the purge: the list no longer warns as this test expects; warnings %+v", quoted, imp.Warnings)
		}
	}
	if _, err := db.MoveCampaign(ctx, c.ID, "op", "", breach.CampaignCancelled); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PurgeCampaign(ctx, c.ID, "op", proofSecret); err != nil {
		t.Fatal(err)
	}

	after := campaignRows(t, c.ID)
	for _, v := range warnedValues {
		if strings.Contains(strings.ToLower(after), strings.ToLower(v)) {
			for line := range strings.Lines(after) {
				if strings.Contains(strings.ToLower(line), strings.ToLower(v)) {
					t.Errorf("%q is still in the campaign's rows after the purge: %s", v, line)
				}
			}
		}
	}
	imps, err := db.Imports(ctx, c.ID)
	if err != nil || len(imps) != 1 {
		t.Fatalf("imports after the purge = %v, %v", imps, err)
	}
	got := imps[0]
	if got.Warned != imp.Warned || len(got.Warnings) != len(want) {
		t.Fatalf("after the purge: %d warned, %d warnings listed; want %d and %d as before", got.Warned, len(got.Warnings), imp.Warned, len(want))
	}
	for i, w := range got.Warnings {
		if (warning{w.Line, w.Field}) != want[i] || w.Reason == "" || strings.Contains(w.Reason, `"`) {
			t.Errorf("warning %d after the purge = %+v; want line %d, field %q and a reason quoting nothing", i, w, want[i].line, want[i].field)
		}
	}
}

// A returned letter's reason (the post's, from a returned-mail file) may quote the address it
// was returned from, in the post's capitals, the one the customer moved to, or a name: the purge
// removes the reason whole (scrubbing the customer's own address left the forwarding address and
// the name, the review of the list found), and the letter stays returned.
func TestPurge_RemovesTheAddressAReturnedLettersReasonQuotes(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	c := newCampaign(t, db)
	mustImport(t, db, c, "customer_id,name,address_line1,address_line2,city,postal_code,country\n"+
		"L1,Lucienne Marchetti,12 Rue Oberkampf,B,Paris,75011,FR\n")
	if _, err := db.ApproveCampaign(ctx, c.ID, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PrepareLetters(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	r := recipient(t, db, c, "L1")
	if n, err := db.MarkLettersPrinted(ctx, c.ID, []int64{r.ID}, []string{"fr"}); err != nil || n != 1 {
		t.Fatalf("MarkLettersPrinted = %d, %v", n, err)
	}
	moved, err := db.MoveLetters(ctx, c.ID, []breach.LetterMove{{CustomerID: "L1", Reason: "Inconnue a l'adresse 12 RUE OBERKAMPF, 75011 PARIS (boite 750110); reexpedier a Pierre Fabre, 8 avenue Jean Jaures 69007 Lyon"}},
		[]breach.DeliveryState{breach.DeliveryPrinted}, breach.DeliveryReturned)
	if err != nil || len(moved) != 1 || !moved[0].Moved {
		t.Fatalf("MoveLetters = %+v, %v", moved, err)
	}
	if before := campaignRows(t, c.ID); !strings.Contains(before, "12 RUE OBERKAMPF") {
		t.Fatal("the returned letter's reason is not in the campaign's rows: the test proves nothing")
	}
	if _, err := db.MoveCampaign(ctx, c.ID, "op", "", breach.CampaignCancelled); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PurgeCampaign(ctx, c.ID, "op", proofSecret); err != nil {
		t.Fatal(err)
	}
	after := campaignRows(t, c.ID)
	for _, v := range []string{"Oberkampf", "75011 ", "Marchetti", "Jaures", "Fabre", "Lyon"} {
		if strings.Contains(strings.ToLower(after), strings.ToLower(v)) {
			t.Errorf("%q is still in the campaign's rows after the purge:\n%s", v, after)
		}
	}
	if !strings.Contains(after, "the post's reason was removed with the campaign's personal data") || !strings.Contains(after, "returned") {
		t.Errorf("the returned letter no longer says it was returned, and that its reason was removed:\n%s", after)
	}
}
