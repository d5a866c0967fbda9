package operation_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/postgres"
)

// auditedSender is a test sender that, at the moment the notices would leave, notes the audit
// rows of the campaign's test sends already written, then sends through the real one and
// fails afterwards when failAfter is set.
type auditedSender struct {
	db        *postgres.DB
	next      operation.TestSender
	failAfter bool
	seen      []breach.AuditEntry
}

func (a *auditedSender) Send(ctx context.Context, c *breach.Campaign, rs []*breach.Recipient, to []string) ([]breach.TestSend, error) {
	var err error
	if a.seen, err = a.db.AuditLog(ctx, breach.AuditFilter{CampaignID: c.ID, Action: breach.ActionCampaignTestSend, Limit: 10}); err != nil {
		return nil, err
	}
	sent, err := a.next.Send(ctx, c, rs, to)
	if err == nil && a.failAfter {
		err = errors.New("the relay hung up after the first notice")
	}
	return sent, err
}

// A test send hands a customer's notice (name, exposed data, reference) to whatever address
// the operator typed: the read is in the audit log before the first notice leaves, naming the
// recipients by internal number and the addresses they went to, and a send that breaks off midway is audited all the same.
func TestTestSend_IsAuditedBeforeTheNoticesLeaveAndWhenItFails(t *testing.T) {
	ops, db := service(t)
	c := draft(t, ops, breach.CLIActor("setup"))
	spy := &auditedSender{db: db, next: ops.Tests}
	ops.Tests = spy
	actor := user("oscar", breach.RoleOperator)
	if _, err := ops.TestSend(t.Context(), actor, c.ID, operation.TestSendRequest{To: []string{"outside@example.net"}, Customers: []string{"AT-100001"}}); err != nil {
		t.Fatal(err)
	}
	if len(spy.seen) != 1 {
		t.Fatalf("audit rows of the test send when the notices left: %d, want 1", len(spy.seen))
	}
	rc, err := db.Recipient(t.Context(), c.ID, "AT-100001")
	if err != nil {
		t.Fatal(err)
	}
	var detail struct {
		Recipients []int64  `json:"recipients"`
		Reviewers  []string `json:"reviewers"`
	}
	if err := json.Unmarshal(spy.seen[0].Detail, &detail); err != nil || len(detail.Recipients) != 1 || detail.Recipients[0] != rc.ID {
		t.Errorf("the row before the send names recipients %v (%v), want [%d]: %s", detail.Recipients, err, rc.ID, spy.seen[0].Detail)
	}
	// Where the customers' notices went is the reviewers' addresses (staff's, not the
	// customers'): an auditor must be able to say where the data was sent.
	if len(detail.Reviewers) != 1 || detail.Reviewers[0] != "outside@example.net" {
		t.Errorf("the row before the send names reviewers %q, want the address typed: %s", detail.Reviewers, spy.seen[0].Detail)
	}
	for _, pii := range []string{"AT-100001", rc.Email, rc.Name} {
		if strings.Contains(string(spy.seen[0].Detail), pii) {
			t.Errorf("the audit row holds %q: %s", pii, spy.seen[0].Detail)
		}
	}

	spy.failAfter = true
	before := len(auditTrail(t, db, c.ID, breach.ActionCampaignTestSend))
	if _, err := ops.TestSend(t.Context(), actor, c.ID, operation.TestSendRequest{To: []string{"outside@example.net"}}); err == nil {
		t.Fatal("a send that failed midway succeeded")
	}
	rows := auditTrail(t, db, c.ID, breach.ActionCampaignTestSend)
	if len(rows) != before+2 || !strings.Contains(string(rows[0].Detail), `"complete": false`) && !strings.Contains(string(rows[0].Detail), `"complete":false`) {
		t.Errorf("a test send that failed after a notice left wrote %d rows (want 2), the last %s", len(rows)-before, rows[0].Detail)
	}
}

// auditTrail returns a campaign's audit rows of action, newest first.
func auditTrail(t *testing.T, db *postgres.DB, campaignID, action string) []breach.AuditEntry {
	t.Helper()
	rows, err := db.AuditLog(t.Context(), breach.AuditFilter{CampaignID: campaignID, Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// Whether a customer_id is on the list is personal data: looking one up through a preview or a
// test send leaves an audit row even when it finds no one, as a record lookup does.
func TestPreviewAndTestSend_ALookupThatMissesIsAudited(t *testing.T) {
	ops, db := service(t)
	c := draft(t, ops, breach.CLIActor("setup"))
	actor := user("prober", breach.RoleOperator)
	_, _, _, err := ops.Preview(t.Context(), actor, c.ID, operation.PreviewRequest{CustomerID: "NOT-ON-THE-LIST"})
	if breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Fatalf("preview of an unknown customer: %v, want ENOTFOUND", err)
	}
	if rows := auditTrail(t, db, c.ID, breach.ActionPreviewCustomer); len(rows) != 1 || !strings.Contains(string(rows[0].Detail), "false") {
		t.Errorf("preview of an unknown customer left %d audit rows: %v", len(rows), rows)
	}
	_, err = ops.TestSend(t.Context(), actor, c.ID, operation.TestSendRequest{To: []string{"r@example.org"}, Customers: []string{"NOT-ON-THE-LIST"}})
	if breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Fatalf("test send of an unknown customer: %v, want ENOTFOUND", err)
	}
	if rows := auditTrail(t, db, c.ID, breach.ActionCampaignTestSend); len(rows) != 1 || !strings.Contains(string(rows[0].Detail), "false") {
		t.Errorf("test send of an unknown customer left %d audit rows: %v", len(rows), rows)
	}
	for _, e := range append(auditTrail(t, db, c.ID, breach.ActionPreviewCustomer), auditTrail(t, db, c.ID, breach.ActionCampaignTestSend)...) {
		if strings.Contains(string(e.Detail), "NOT-ON-THE-LIST") {
			t.Errorf("the audit row quotes the customer_id typed: %s", e.Detail)
		}
	}
}

// A customer_id no import could have stored — a NUL (which PostgreSQL refuses: a 500), bytes
// that are not UTF-8, a megabyte — names no one: every lookup refuses it as EINVALID, quoted
// short, before any store or audit call.
func TestLookups_ACustomerIDNoImportCouldStoreIsInvalid(t *testing.T) {
	ops, db := service(t)
	c := draft(t, ops, breach.CLIActor("setup"))
	actor := user("fuzzer", breach.RoleOperator)
	ctx := t.Context()
	before := auditCount(t, db)
	for _, id := range []string{"AT-100001\x00", "\xff\xfe", "AT-\x01", strings.Repeat("x", 1<<20), " "} {
		for what, err := range map[string]error{
			"record": func() error { _, err := ops.Recipient(ctx, actor, c.ID, id); return err }(),
			"preview": func() error {
				_, _, _, err := ops.Preview(ctx, actor, c.ID, operation.PreviewRequest{CustomerID: id})
				if id == " " && err == nil {
					return breach.Errorf(breach.EINVALID, "blank is the sample customer")
				}
				return err
			}(),
			"test send": func() error {
				_, err := ops.TestSend(ctx, actor, c.ID, operation.TestSendRequest{To: []string{"r@example.org"}, Customers: []string{id}})
				return err
			}(),
		} {
			if breach.ErrorCode(err) != breach.EINVALID || len(breach.ErrorMessage(err)) > 200 {
				t.Errorf("%s of customer_id %.20q: %.200v, want a short EINVALID", what, id, err)
			}
		}
	}
	if after := auditCount(t, db); after != before {
		t.Errorf("refused lookups wrote %d audit rows", after-before)
	}
}

// A reviewer's or a proof's address that is not an email address is the person's typo: the
// answer says what is wrong with it (short), never "internal error".
func TestAddresses_ATypoIsExplainedNotAnInternalError(t *testing.T) {
	ops, _ := service(t)
	c := draft(t, ops, breach.CLIActor("setup"))
	ctx := t.Context()
	for _, bad := range []string{"reviewer@", "rev iewer@example.org", "reviewer@example", "a\x00@example.org", strings.Repeat("r", 60000) + "@example.org", "+" + strings.Repeat("5", 60000)} {
		_, err := ops.TestSend(ctx, breach.CLIActor("cli"), c.ID, operation.TestSendRequest{To: []string{bad}})
		if msg := breach.ErrorMessage(err); breach.ErrorCode(err) != breach.EINVALID || strings.Contains(msg, "internal error") || !strings.Contains(msg, "email address") || len(msg) > 300 {
			// (a phone number's error names email addresses too: "neither an email address nor …")
			t.Errorf("test send to %.30q: %.300q, want a short EINVALID saying what is wrong", bad, msg)
		}
		_, err = ops.Proof(ctx, breach.CLIActor("cli"), c.ID, bad)
		if msg := breach.ErrorMessage(err); breach.ErrorCode(err) != breach.EINVALID || strings.Contains(msg, "internal error") || len(msg) > 300 {
			t.Errorf("proof of %.30q: %.300q, want a short EINVALID saying what is wrong", bad, msg)
		}
	}
}

// Enrolment codes change every customer's notice, as a list does: under the two-person rule an
// approval given before a codes import no longer counts, and whoever imported the codes is an
// author who cannot give one of the two approvals. (Ana approved; Oscar imported codes — 20
// customers got a code Ana never saw — and approved: the campaign was approved.)
func TestApprove_ACodesImportCancelsEarlierApprovalsAndItsImporterIsAnAuthor(t *testing.T) {
	ops, _ := serviceOn(t, migratedDB(t)) // REQUIRE_TWO_PERSON is recorded in the database it approves in
	ops.TwoPersonAlways = true
	c := draft(t, ops, breach.CLIActor("maker"))
	ctx := t.Context()
	ana, ben := user("ana", breach.RoleApprover), user("ben", breach.RoleApprover)
	oscar := user("oscar", breach.RoleOperator, breach.RoleApprover)
	if got, err := ops.Approve(ctx, ana, c.ID, operation.ApproveRequest{}); err != nil || got.ApprovalProgress() != "1 of 2 approvals, by user:ana" {
		t.Fatalf("ana's approval: %v, %v", got, err)
	}
	if _, err := ops.ImportCodes(ctx, oscar, c.ID, operation.CodesRequest{Filename: "v.csv", Codes: codesFile(poolCodes("SOD", 100)...)}); err != nil {
		t.Fatal(err)
	}
	if got, err := ops.Campaign(ctx, ana, c.ID); err != nil || len(got.Approvals) != 0 {
		t.Errorf("after the codes import: approvals %v (%v), want none: ana approved notices without these codes", got.Approvals, err)
	}
	if _, err := ops.Approve(ctx, oscar, c.ID, operation.ApproveRequest{}); breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "other approvers") {
		t.Errorf("oscar approving after importing the codes: %v, want ECONFLICT (an author)", err)
	}
	if _, err := ops.Approve(ctx, ana, c.ID, operation.ApproveRequest{}); err != nil {
		t.Fatalf("ana approving again: %v", err)
	}
	approved(t, ops, ben, c.ID, operation.ApproveRequest{})
}

// An approval is of the list its approver reviewed. The operator who uploaded the list cannot
// approve it, but could upload another between an approver's look at the campaign and their
// click: that approval is refused (and audited as refused), and the approver approves the
// version they then see.
func TestApprove_AListImportedAfterTheReviewIsNotApprovedUnseen(t *testing.T) {
	ops, db := service(t)
	ctx := t.Context()
	maker, ana := breach.CLIActor("maker"), user("ana", breach.RoleApprover)
	c := draft(t, ops, maker)
	reviewed, err := ops.Campaign(ctx, ana, c.ID)
	if err != nil || reviewed.ListVersion == "" {
		t.Fatalf("campaign: %+v, %v; want a list version", reviewed, err)
	}
	second := "customer_id,email\nX1,mallory@example.net\n"
	if _, err := ops.Import(ctx, maker, c.ID, operation.ImportRequest{Filename: "more.csv", List: strings.NewReader(second)}); err != nil {
		t.Fatal(err)
	}
	refusedBefore := countAction(t, db, breach.ActionApproveRefused)
	if _, err := ops.Approve(ctx, ana, c.ID, operation.ApproveRequest{ListVersion: reviewed.ListVersion}); breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "changed since it was reviewed") {
		t.Fatalf("approving the list reviewed before the import: %v, want ECONFLICT", err)
	}
	current, err := ops.Campaign(ctx, ana, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.ParseInt(current.ListVersion, 10, 64)
	if _, err := ops.Approve(ctx, ana, c.ID, operation.ApproveRequest{ListVersion: strconv.FormatInt(n+1, 10)}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("approving a version the list does not have (yet): %v, want ECONFLICT", err)
	}
	// What is no version at all is refused as such, before it is compared or audited.
	for _, bad := range []string{"0" + current.ListVersion, " " + current.ListVersion, "+" + current.ListVersion, current.ListVersion + "\x00",
		"20260101T000000.000000Z", "0", "-1", strings.Repeat("9", 100)} {
		if _, err := ops.Approve(ctx, ana, c.ID, operation.ApproveRequest{ListVersion: bad}); breach.ErrorCode(err) != breach.EINVALID {
			t.Errorf("approving with list version %.40q: %v, want EINVALID", bad, err)
		}
	}
	if got := countAction(t, db, breach.ActionApproveRefused) - refusedBefore; got != 2 {
		t.Errorf("%d refusals audited, want 2", got)
	}
	now, err := ops.Campaign(ctx, ana, c.ID)
	if err != nil || now.ListVersion == reviewed.ListVersion {
		t.Fatalf("after the import: version %q (%v), want a new one", now.ListVersion, err)
	}
	approved(t, ops, ana, c.ID, operation.ApproveRequest{ListVersion: now.ListVersion})
}

// A failed import brought nothing: the list is as the approvers saw it, the version the same,
// and the approvals given stand. (It used to cancel them: a two-person approval had to start
// again after an uploader's mistaken file.)
func TestApprove_AFailedImportLeavesTheListAndItsApprovals(t *testing.T) {
	url := migratedDB(t) // REQUIRE_TWO_PERSON is recorded in the database it approves in
	ops, _ := serviceOn(t, url)
	ops.TwoPersonAlways = true
	ctx := t.Context()
	maker := breach.CLIActor("maker")
	ana, ben := user("ana", breach.RoleApprover), user("ben", breach.RoleApprover)
	c := draft(t, ops, maker)
	first, err := ops.Approve(ctx, ana, c.ID, operation.ApproveRequest{})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := ops.Import(ctx, maker, c.ID, operation.ImportRequest{Filename: "wrong.csv", List: strings.NewReader("name,city\nAna,Lima\n")})
	if err == nil && imp.State != breach.ImportFailed {
		t.Fatalf("a list without customer_id: %+v, want a failed import", imp)
	}
	waitForOn(t, url, "no failed import recorded", `SELECT count(*) FROM imports WHERE campaign_id = $1 AND state = 'failed'`, c.ID)
	got, err := ops.Campaign(ctx, ben, c.ID)
	if err != nil || got.ListVersion != first.ListVersion || len(got.Approvals) != 1 {
		t.Fatalf("after the failed import: version %q (was %q), approvals %v (%v); want the same version and ana's approval", got.ListVersion, first.ListVersion, got.Approvals, err)
	}
	approved(t, ops, ben, c.ID, operation.ApproveRequest{ListVersion: got.ListVersion})
}

// An approval that asks for no particular version is of the list as it was when it was asked
// for. An import holds the campaign's lock from its start, so an approval asked for meanwhile
// waits for it; once the import has landed, the approval is refused, not given to a list that
// did not exist when the approver asked.
func TestApprove_AnApprovalWaitingOnAnImportIsRefusedOnceItLands(t *testing.T) {
	ops, _ := service(t)
	ctx := t.Context()
	maker, ana := breach.CLIActor("maker"), user("ana", breach.RoleApprover)
	c := draft(t, ops, maker)
	list, feed := io.Pipe()
	imported := make(chan error, 1)
	go func() {
		_, err := ops.Import(ctx, maker, c.ID, operation.ImportRequest{Filename: "slow.csv", List: list})
		imported <- err
	}()
	if _, err := feed.Write([]byte("customer_id,email\nX1,mallory@example.net\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the import never started", `SELECT count(*) FROM imports WHERE campaign_id = $1 AND state = 'running'`, c.ID)
	approved := make(chan error, 1)
	go func() {
		_, err := ops.Approve(ctx, ana, c.ID, operation.ApproveRequest{})
		approved <- err
	}()
	waitFor(t, "the approval never waited for the import's lock",
		`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`)
	time.Sleep(300 * time.Millisecond)
	feed.Close()
	if err := <-imported; err != nil {
		t.Fatal(err)
	}
	// The import is dated when it landed, not when its transaction began: imports take turns
	// under the lock, and their times follow the order they land in.
	sum, err := ops.Summary(ctx, maker, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	imps := sum.Imports
	last := imps[0]
	for _, imp := range imps {
		if imp.StartedAt.After(last.StartedAt) {
			last = imp
		}
	}
	if last.FinishedAt == nil || last.FinishedAt.Sub(last.StartedAt) < 300*time.Millisecond {
		t.Errorf("the import started %s and finished %v: want it dated when it landed, 300 ms later at least", last.StartedAt, last.FinishedAt)
	}
	if err := <-approved; breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "changed since") {
		t.Fatalf("approval asked for during the import: %v, want ECONFLICT", err)
	}
}

// An approval runs to its end once asked for, whoever hangs up: a proxy in front of the console
// gives up on a request after a minute, and the approval of tens of millions of customers takes
// longer — cancelled with the request, it was rolled back at every try. Here it waits on the
// campaign's lock while its asker hangs up, and is given once the lock is free.
func TestApprove_GoesOnWhenItsAskerHangsUp(t *testing.T) {
	ops, db := service(t)
	ana := user("ana", breach.RoleApprover)
	c := draft(t, ops, breach.CLIActor("maker"))
	holder, err := dbConn(t).Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(context.Background())
	if _, err := holder.Exec(t.Context(), `SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE`, c.ID); err != nil {
		t.Fatal(err)
	}
	asked, hangUp := context.WithCancel(t.Context())
	approved := make(chan error, 1)
	go func() {
		_, err := ops.Approve(asked, ana, c.ID, operation.ApproveRequest{})
		approved <- err
	}()
	waitFor(t, "the approval never waited for the campaign's lock",
		`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`)
	hangUp()
	time.Sleep(200 * time.Millisecond)
	if err := holder.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-approved; err != nil {
		t.Fatalf("the approval whose asker hung up: %v, want it given", err)
	}
	got, err := ops.Campaign(t.Context(), ana, c.ID)
	if err != nil || got.State != breach.CampaignApproved {
		t.Fatalf("campaign after the approval: %+v, %v; want approved", got, err)
	}
	if n := len(auditTrail(t, db, c.ID, breach.ActionCampaignApprove)); n != 1 {
		t.Errorf("approval audit rows: %d, want 1", n)
	}
}

// approved gives actor's approval by req and fails the test unless it approves the campaign.
func approved(t *testing.T, ops *operation.Service, actor breach.Actor, id string, req operation.ApproveRequest) {
	t.Helper()
	if got, err := ops.Approve(t.Context(), actor, id, req); err != nil || got.State != breach.CampaignApproved {
		t.Fatalf("%s's approval: %+v, %v; want the campaign approved", actor.Name, got, err)
	}
}

// waitFor polls query until it counts at least one row, and fails the test with what if it
// still has not after 10 seconds.
func waitFor(t *testing.T, what, query string, args ...any) {
	t.Helper()
	waitForOn(t, dbURL, what, query, args...)
}

// waitForOn is waitFor on the database at url.
func waitForOn(t *testing.T, url, what, query string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countAction(t *testing.T, db *postgres.DB, action string) int {
	t.Helper()
	entries, err := db.AuditLog(t.Context(), breach.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == action {
			n++
		}
	}
	return n
}
