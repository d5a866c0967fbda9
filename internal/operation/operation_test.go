package operation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/logtest"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/sms"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &dbURL)) }

var testSecret = []byte("operation-test-secret-0123456789abcdef")

// service returns the operations on this package's database, sending tests to a capture.
func service(t *testing.T) (*operation.Service, *postgres.DB) {
	t.Helper()
	return serviceOn(t, dbURL)
}

// serviceOn is service on the database at url.
func serviceOn(t *testing.T, url string) (*operation.Service, *postgres.DB) {
	t.Helper()
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	rd, err := notice.New("", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	tests := dispatch.TestSender{Renderer: rd, Mail: &email.Capture{Dir: filepath.Join(out, "email")}, SMS: &sms.Capture{Path: filepath.Join(out, "sms.jsonl")}}
	return &operation.Service{Store: db, Importer: im, Renderer: rd, Tests: tests, Secret: testSecret,
		Log: slog.New(slog.NewTextHandler(&logtest.Buffer{}, nil))}, db
}

// draft creates the example campaign as actor and imports the example list.
func draft(t *testing.T, ops *operation.Service, actor breach.Actor) *breach.Campaign {
	t.Helper()
	return draftWith(t, ops, actor, string(examples.Customers))
}

// draftWith creates the example campaign as actor and imports list.
func draftWith(t *testing.T, ops *operation.Service, actor breach.Actor, list string) *breach.Campaign {
	t.Helper()
	c, err := ops.CreateCampaign(t.Context(), actor, "campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ops.Import(t.Context(), actor, c.ID, operation.ImportRequest{Filename: "customers.csv", List: strings.NewReader(list)}); err != nil {
		t.Fatal(err)
	}
	return c
}

// dbConn is a connection of the test's own to this package's database, closed with the test.
func dbConn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func user(login string, roles ...breach.Role) breach.Actor {
	return breach.UserActor(&breach.User{Login: login, Roles: roles})
}

func auditCount(t *testing.T, db *postgres.DB) int {
	t.Helper()
	entries, err := db.AuditLog(context.Background(), breach.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// Roles are the operation's to check: a viewer reads, and is refused every change whichever
// door it comes through.
func TestOperation_AViewerReadsButChangesNothing(t *testing.T) {
	ops, db := service(t)
	c := draft(t, ops, breach.CLIActor("setup"))
	viewer := user("vera", breach.RoleViewer)
	ctx := t.Context()
	if _, err := ops.Campaign(ctx, viewer, c.ID); err != nil {
		t.Errorf("a viewer reading a campaign: %v", err)
	}
	if _, err := ops.Recipient(ctx, viewer, c.ID, "AT-100001"); err != nil {
		t.Errorf("a viewer reading a record: %v", err)
	}
	for what, err := range map[string]error{
		"create": func() error {
			_, err := ops.CreateCampaign(ctx, viewer, "c.yaml", bytes.NewReader(examples.Campaign))
			return err
		}(),
		"import": func() error {
			_, err := ops.Import(ctx, viewer, c.ID, operation.ImportRequest{List: strings.NewReader("customer_id,email\nX,x@example.com\n")})
			return err
		}(),
		"approve": func() error {
			_, err := ops.Approve(ctx, viewer, c.ID, operation.ApproveRequest{})
			return err
		}(),
		"start":  func() error { _, err := ops.MoveCampaign(ctx, viewer, c.ID, operation.Start); return err }(),
		"cancel": func() error { _, err := ops.MoveCampaign(ctx, viewer, c.ID, operation.Cancel); return err }(),
		"test-send": func() error {
			_, err := ops.TestSend(ctx, viewer, c.ID, operation.TestSendRequest{To: []string{"r@example.org"}})
			return err
		}(),
		"purge": func() error { _, err := ops.Purge(ctx, viewer, c.ID); return err }(),
	} {
		if breach.ErrorCode(err) != breach.EFORBIDDEN || !strings.Contains(err.Error(), "user:vera") {
			t.Errorf("a viewer's %s: %v, want EFORBIDDEN naming the user", what, err)
		}
	}
	if got, _ := ops.Campaign(ctx, viewer, c.ID); got.State != breach.CampaignDraft {
		t.Errorf("after the viewer's attempts: %s", got.State)
	}
	// Each refusal left its trace: who, what they attempted, the role it takes, the campaign.
	denied, err := db.AuditLog(ctx, breach.AuditFilter{Action: breach.ActionDenied, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	attempted := map[string]bool{}
	for _, e := range denied {
		if e.Actor != "user:vera" {
			continue
		}
		var d struct{ Attempted, Role string }
		json.Unmarshal(e.Detail, &d)
		attempted[d.Attempted] = true
		if d.Attempted == "Approve" && (e.CampaignID != c.ID || d.Role != "approver") {
			t.Errorf("the refused approval's audit row: %+v, want the campaign and the approver role", e)
		}
	}
	for _, op := range []string{"CreateCampaign", "Import", "Approve", "MoveCampaign", "TestSend", "Purge"} {
		if !attempted[op] {
			t.Errorf("no access.denied row for the viewer's %s (rows: %v)", op, attempted)
		}
	}
}

// An ID in any other spelling than the canonical one is refused before any store or audit
// call: nothing is read, nothing is written.
func TestOperation_NonCanonicalIDsAreRefusedBeforeAnythingHappens(t *testing.T) {
	ops, db := service(t)
	c := draft(t, ops, breach.CLIActor("setup"))
	actor := breach.CLIActor("ids")
	ctx := t.Context()
	before := auditCount(t, db)
	for _, id := range []string{"urn:uuid:" + c.ID, "{" + c.ID + "}", strings.ToUpper(c.ID), strings.ReplaceAll(c.ID, "-", ""), c.ID + "\n", ""} {
		for what, err := range map[string]error{
			"recipient":  func() error { _, err := ops.Recipient(ctx, actor, id, "AT-100001"); return err }(),
			"deliveries": func() error { _, _, err := ops.Deliveries(ctx, actor, id, operation.DeliveriesRequest{}); return err }(),
			"preview": func() error {
				_, _, _, err := ops.Preview(ctx, actor, id, operation.PreviewRequest{CustomerID: "AT-100001"})
				return err
			}(),
			"approve": func() error {
				_, err := ops.Approve(ctx, actor, id, operation.ApproveRequest{})
				return err
			}(),
			"audit log": func() error {
				if id == "" {
					return breach.Errorf(breach.EINVALID, "no filter is no campaign: nothing to refuse")
				}
				_, err := ops.AuditLog(ctx, actor, operation.AuditQuery{Campaign: id})
				return err
			}(),
		} {
			if breach.ErrorCode(err) != breach.EINVALID {
				t.Errorf("%s with campaign ID %q: %v, want EINVALID", what, id, err)
			}
		}
	}
	if after := auditCount(t, db); after != before {
		t.Errorf("refused requests wrote %d audit rows", after-before)
	}
}

// The test-send limit is the operation's, so no door can skip it (the command line once did).
func TestOperation_TestSendIsLimitedForEveryone(t *testing.T) {
	ops, _ := service(t)
	c := draft(t, ops, breach.CLIActor("setup"))
	var to []string
	for i := range operation.MaxTestNotices + 1 {
		to = append(to, "reviewer"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+"@example.org")
	}
	_, err := ops.TestSend(t.Context(), breach.CLIActor("cli"), c.ID, operation.TestSendRequest{To: to})
	if breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), "at most 50 test notices") {
		t.Errorf("51 test notices from the CLI: %v, want EINVALID naming the limit", err)
	}
	res, err := ops.TestSend(t.Context(), breach.CLIActor("cli"), c.ID, operation.TestSendRequest{To: []string{"one@example.org"}})
	if err != nil || len(res.Sent) != 1 || res.Failed != 0 {
		t.Errorf("one test notice: %+v, %v", res, err)
	}
}

// REQUIRE_TWO_PERSON makes a campaign whose file asks for one approver need two.
func TestOperation_RequireTwoPersonOnTheServerOverridesTheFile(t *testing.T) {
	ops, _ := serviceOn(t, migratedDB(t)) // REQUIRE_TWO_PERSON is recorded in the database it approves in
	ops.TwoPersonAlways = true
	c := draft(t, ops, breach.CLIActor("maker"))
	if c.Approval.TwoPerson {
		t.Fatal("the example campaign asks for two people already")
	}
	ctx := t.Context()
	if _, err := ops.Approve(ctx, breach.CLIActor("boss"), c.ID, operation.ApproveRequest{}); breach.ErrorCode(err) != breach.ECONFLICT {
		t.Errorf("the CLI approving under REQUIRE_TWO_PERSON: %v, want ECONFLICT", err)
	}
	got, err := ops.Approve(ctx, user("ana", breach.RoleApprover, ""), c.ID, operation.ApproveRequest{})
	if err != nil || got.State != breach.CampaignDraft || got.ApprovalProgress() != "1 of 2 approvals, by user:ana" {
		t.Fatalf("first approval: %+v, %v", got, err)
	}
	if got, err = ops.Approve(ctx, user("ben", breach.RoleApprover, ""), c.ID, operation.ApproveRequest{}); err != nil || got.State != breach.CampaignApproved {
		t.Fatalf("second approval: %+v, %v", got, err)
	}
}

// A token's name travels in URL paths: one that could not be revoked there is refused.
func TestOperation_TokenNamesAreSafeInAPath(t *testing.T) {
	ops, _ := service(t)
	for _, bad := range []string{"a/b", "has space", "ü", "../x", strings.Repeat("x", 101)} {
		if _, _, err := ops.CreateToken(t.Context(), breach.CLIActor("t"), operation.TokenRequest{Name: bad}); breach.ErrorCode(err) != breach.EINVALID {
			t.Errorf("token name %q: %v, want EINVALID", bad, err)
		}
	}
	if _, _, err := ops.CreateToken(t.Context(), breach.CLIActor("t"), operation.TokenRequest{Name: "ci-bot@ops_1.x"}); err != nil {
		t.Errorf("a plain name: %v", err)
	}
}

// A negative lifetime is a slip of the sign, not "never": it is refused. A token lives for
// ever only when asked in so many words.
func TestOperation_ANegativeTokenLifetimeIsRefused(t *testing.T) {
	ops, _ := service(t)
	if _, _, err := ops.CreateToken(t.Context(), breach.CLIActor("t"), operation.TokenRequest{Name: "neg", Lifetime: -time.Hour}); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("lifetime -1h: %v, want EINVALID", err)
	}
	_, info, err := ops.CreateToken(t.Context(), breach.CLIActor("t"), operation.TokenRequest{Name: "default"})
	if err != nil || info.ExpiresAt == nil || time.Until(*info.ExpiresAt) < operation.DefaultTokenLifetime-time.Minute {
		t.Errorf("no lifetime: %+v, %v; want the default", info, err)
	}
	if _, info, err := ops.CreateToken(t.Context(), breach.CLIActor("t"), operation.TokenRequest{Name: "forever", Never: true}); err != nil || info.ExpiresAt != nil {
		t.Errorf("never: %+v, %v; want no expiry", info, err)
	}
}
